<#
.SYNOPSIS
  Build Tandem for Windows: three PyInstaller bundles (one per ONNX Runtime flavour) and the
  Inno Setup installer that lets the installer pick the GPU provider.

.DESCRIPTION
  NOT TESTED: written on Linux, where it could not be run (see packaging/README.md).
  Needs: Windows 10/11 x64, Python 3.11 x64 (the py launcher), Inno Setup 6 (ISCC.exe), network
  access to PyPI. Run from anywhere:
      powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
      powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 -Providers cpu
  Each flavour gets its own virtual environment (build\win\venv-<provider>) because the three
  ONNX Runtime wheels install the same `onnxruntime` package and cannot live side by side:
      cpu       pip install onnxruntime==<version>
      cuda      pip install onnxruntime-gpu==<version>        (CUDA 12 + cuDNN 9 on the PC)
      directml  pip install onnxruntime-directml==<version>   (DirectX 12 GPU)
  Output: build\win\<provider>\tandem\ (tandem.exe console CLI, tandemw.exe GUI) and
  build\win\tandem-<version>-setup.exe.
#>
param(
    [string[]]$Providers = @("cpu", "cuda", "directml"),
    [string]$OrtVersion = "",
    [string]$Python = "py -3.11",
    [string]$Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
)
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
$Out = Join-Path $Root "build\win"
New-Item -ItemType Directory -Force $Out | Out-Null
$Wheels = @{ cpu = "onnxruntime"; cuda = "onnxruntime-gpu"; directml = "onnxruntime-directml" }

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed ($LASTEXITCODE)" }
}

foreach ($p in $Providers) {
    if (-not $Wheels.ContainsKey($p)) { throw "unknown provider '$p' (cpu, cuda, directml)" }
    $venv = Join-Path $Out "venv-$p"
    $py = Join-Path $venv "Scripts\python.exe"
    if (-not (Test-Path $py)) {
        Invoke-Expression "$Python -m venv `"$venv`""
        if ($LASTEXITCODE -ne 0) { throw "venv creation failed" }
    }
    Invoke-Checked $py @("-m", "pip", "install", "-q", "--upgrade", "pip")
    # Tandem and its dependencies (this brings the CPU onnxruntime), then swap the flavour.
    Invoke-Checked $py @("-m", "pip", "install", "-q", $Root.Path, "pyinstaller>=6.10")
    if (-not $OrtVersion) {  # the CPU version pip resolved first, for every flavour
        $OrtVersion = (& $py -c "import onnxruntime; print(onnxruntime.__version__)").Trim()
        Write-Host "ONNX Runtime $OrtVersion for every flavour"
    }
    Invoke-Checked $py @("-m", "pip", "uninstall", "-q", "-y",
                         "onnxruntime", "onnxruntime-gpu", "onnxruntime-directml")
    Invoke-Checked $py @("-m", "pip", "install", "-q", "$($Wheels[$p])==$OrtVersion")
    Invoke-Checked $py @("-c", "import onnxruntime as o; print(o.__version__, o.get_available_providers())")

    $dist = Join-Path $Out $p
    Invoke-Checked $py @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                         "--distpath", $dist, "--workpath", (Join-Path $Out "work-$p"),
                         (Join-Path $Root "packaging\tandem.spec"))
    $exe = Join-Path $dist "tandem\tandem.exe"
    Invoke-Checked $exe @("--version")
    Invoke-Checked $exe @("models")
}

# The installer shares everything but _internal\onnxruntime between the flavours: make sure
# the bundles really are identical outside it (same files, same bytes).
function Get-Manifest([string]$Dir) {
    Get-ChildItem -Recurse -File $Dir |
        Where-Object { $_.FullName.Substring($Dir.Length) -notmatch '^\\_internal\\onnxruntime' } |
        ForEach-Object { "{0} {1}" -f $_.FullName.Substring($Dir.Length), (Get-FileHash $_.FullName).Hash }
}
$base = Get-Manifest (Join-Path $Out "cpu\tandem")
foreach ($p in $Providers | Where-Object { $_ -ne "cpu" }) {
    $diff = Compare-Object $base (Get-Manifest (Join-Path $Out "$p\tandem"))
    if ($diff) {
        $diff | Select-Object -First 20 | Format-Table | Out-String | Write-Host
        throw "the $p bundle differs from the CPU bundle outside _internal\onnxruntime"
    }
}

if ($Providers.Count -eq 3) {
    $version = & (Join-Path $Out "cpu\tandem\tandem.exe") --version
    $version = ($version -split " ")[1]
    Invoke-Checked $Iscc @("/DAppVersion=$version", "/DBuildRoot=$Out",
                           (Join-Path $Root "packaging\windows\tandem.iss"))
    Write-Host "Installer: $Out\tandem-$version-setup.exe"
} else {
    Write-Host "Bundles built for: $($Providers -join ', ') (the installer needs all three)"
}
