# shellcheck shell=bash
# The e2e OCI image in other packagings, made without docker or registries: a `docker save` archive
# and a multi-platform OCI layout. Sourced, not run.

# Makes a `docker save` archive (the classic format: manifest.json with Config/RepoTags/Layers, one
# uncompressed layer.tar per layer) from an OCI image layout: the same config and the same layers,
# so both must flatten to the same tree.
# e2e_docker_save LAYOUT OUT.tar [REPO:TAG]
e2e_docker_save() {
    local layout=$1 out=$2 repo_tag=${3:-azl-e2e:latest} dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/azl-docker-save.XXXXXX")
    python3 - "$layout" "$dir" "$repo_tag" <<'EOF'
import gzip, hashlib, json, os, shutil, sys

layout, out, repo_tag = sys.argv[1:4]

def blob(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)

with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
if len(index["manifests"]) != 1:
    sys.exit(f"{layout}: expected one manifest in index.json, found {len(index['manifests'])}")
with open(blob(index["manifests"][0]["digest"])) as f:
    manifest = json.load(f)

config_digest = manifest["config"]["digest"]
config_name = config_digest.split(":", 1)[1] + ".json"
shutil.copyfile(blob(config_digest), os.path.join(out, config_name))

layer_names = []
for layer in manifest["layers"]:
    media = layer["mediaType"]
    opener = gzip.open if media.endswith("+gzip") else open
    if not (media.endswith("+gzip") or media.endswith(".tar")):
        sys.exit(f"{layout}: unsupported layer media type {media}")
    tmp = os.path.join(out, "layer.tmp")
    sha = hashlib.sha256()
    with opener(blob(layer["digest"]), "rb") as src, open(tmp, "wb") as dst:
        while chunk := src.read(1 << 20):
            sha.update(chunk)
            dst.write(chunk)
    layer_id = sha.hexdigest()
    os.makedirs(os.path.join(out, layer_id))
    os.rename(tmp, os.path.join(out, layer_id, "layer.tar"))
    with open(os.path.join(out, layer_id, "VERSION"), "w") as f:
        f.write("1.0")
    with open(os.path.join(out, layer_id, "json"), "w") as f:
        json.dump({"id": layer_id}, f)
    layer_names.append(f"{layer_id}/layer.tar")

repo, tag = repo_tag.rsplit(":", 1)
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump([{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}], f)
with open(os.path.join(out, "repositories"), "w") as f:
    json.dump({repo: {tag: layer_names[-1].split("/")[0]}}, f)
EOF
    # Sorted: manifest.json comes after the layers, as in real `docker save` output.
    tar -C "$dir" --sort=name --numeric-owner -cf "$out" .
    rm -rf -- "$dir"
}

# Makes in OUT a multi-platform OCI layout from the single-platform LAYOUT (a copy): an index whose first entry is a linux/arm64 image holding only the first layer (tag
# "arm64"), then the original image as linux/amd64 (tag "amd64"). A reader that ignores the platform
# and takes the first manifest gets the wrong tree.
e2e_multi_platform_layout() {
    local layout=$1 out=$2
    mkdir -p "$out/blobs"
    cp -a -- "$layout/blobs/sha256" "$out/blobs/sha256"
    cp -- "$layout/oci-layout" "$out/oci-layout"
    python3 - "$layout" "$out" <<'PY'
import hashlib, json, os, sys

layout, out = sys.argv[1:3]

def blob_path(root, digest):
    return os.path.join(root, "blobs", *digest.split(":", 1))

def put(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(out, digest), "wb") as f:
        f.write(data)
    return digest, len(data)

index = json.load(open(os.path.join(layout, "index.json")))
amd64 = dict(index["manifests"][0])
manifest = json.load(open(blob_path(layout, amd64["digest"])))
config = json.load(open(blob_path(layout, manifest["config"]["digest"])))

config["architecture"] = "arm64"
config["rootfs"]["diff_ids"] = config["rootfs"]["diff_ids"][:1]
config["history"] = [h for h in config.get("history", []) if not h.get("empty_layer")][:1]
digest, size = put(json.dumps(config).encode())
manifest["config"] = dict(manifest["config"], digest=digest, size=size)
manifest["layers"] = manifest["layers"][:1]
digest, size = put(json.dumps(manifest).encode())

arm64 = {"mediaType": amd64["mediaType"], "digest": digest, "size": size,
         "platform": {"architecture": "arm64", "os": "linux"},
         "annotations": {"org.opencontainers.image.ref.name": "arm64"}}
amd64["platform"] = {"architecture": "amd64", "os": "linux"}
amd64["annotations"] = {"org.opencontainers.image.ref.name": "amd64"}
index["manifests"] = [arm64, amd64]
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
PY
}
