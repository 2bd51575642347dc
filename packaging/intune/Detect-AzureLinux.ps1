# Intune remediation, detection script: is this user's Azure Linux distribution as the organisation
# wants it? Run it "using the logged-on credentials" (a WSL distribution belongs to a Windows
# account), 64-bit PowerShell. Exit 0: compliant; exit 1: Intune runs Remediate-AzureLinux.ps1.
# The desired state is the AzureLinux.WSL/Distribution instance below: the same properties as in a
# WinGet configuration (packaging/dsc/azurelinux.dsc.resource.json has their schema).
$ErrorActionPreference = 'Stop'
$instance = @{
    name        = 'AzureLinux'
    image       = 'https://contoso.example/wsl/AzureLinux-4.0-x64.wsl'
    sha256      = '0f2d3c4b5a69788796a5b4c3d2e1f0011223344556677889900aabbccddeeff0'
    answersFile = "$env:ProgramData\AzureLinux\team-answers.json"
} | ConvertTo-Json -Compress

$launcher = Get-Command azurelinux.exe -ErrorAction SilentlyContinue
if (-not $launcher) {
    Write-Output 'azurelinux.exe is not installed for this user'
    exit 1
}
# stdout: the actual state (with _inDesiredState), then the properties that differ.
$lines = $instance | & $launcher.Source dsc test
if ($LASTEXITCODE -ne 0) {
    Write-Output "azurelinux dsc test failed (exit $LASTEXITCODE)"
    exit 1
}
$state = $lines[0] | ConvertFrom-Json
if ($state._inDesiredState) {
    Write-Output 'compliant'
    exit 0
}
Write-Output "drift: $($lines[1])"
exit 1
