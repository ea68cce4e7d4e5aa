; Inno Setup 6 script for Tandem on Windows (per-machine install, x64).
; NOT TESTED: written and reviewed on Linux; see packaging/README.md ("Windows").
;
; Built by packaging\windows\build.ps1, which first makes three PyInstaller bundles that differ
; only in their ONNX Runtime (it checks that):
;   build\win\cpu\tandem       onnxruntime            (CPU)       -> the base of the installation
;   build\win\cuda\tandem      onnxruntime-gpu        (CUDA)
;   build\win\directml\tandem  onnxruntime-directml   (DirectML)
; and then runs:  ISCC.exe /DAppVersion=0.1.0 /DBuildRoot=<repo>\build\win packaging\windows\tandem.iss
; The installer shares everything but the ONNX Runtime folder between the three, and the
; "GPU provider" page (a choice of components) decides which ONNX Runtime is installed.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BuildRoot
  #define BuildRoot "..\..\build\win"
#endif
#define Ort "_internal\onnxruntime"

[Setup]
AppId={{6F0C5E8A-3C1B-4B8E-9D67-2A7E1D4C9B10}
AppName=Tandem
AppVersion={#AppVersion}
AppVerName=Tandem {#AppVersion}
AppPublisher=Tandem project
DefaultDirName={autopf}\Tandem
DefaultGroupName=Tandem
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#BuildRoot}
OutputBaseFilename=tandem-{#AppVersion}-setup
SetupIconFile=tandem.ico
UninstallDisplayIcon={app}\tandemw.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
LicenseFile=..\..\LICENSE

[Languages]
Name: "fr"; MessagesFile: "compiler:Languages\French.isl"
Name: "en"; MessagesFile: "compiler:Default.isl"

[Types]
Name: "cpu"; Description: "{cm:TypeCpu}"
Name: "cuda"; Description: "{cm:TypeCuda}"
Name: "directml"; Description: "{cm:TypeDirectML}"

[Components]
Name: "main"; Description: "Tandem"; Types: cpu cuda directml; Flags: fixed
Name: "provider"; Description: "{cm:ProviderGroup}"; Types: cpu cuda directml; Flags: fixed
Name: "provider\cpu"; Description: "{cm:ProviderCpu}"; Types: cpu; Flags: exclusive
Name: "provider\cuda"; Description: "{cm:ProviderCuda}"; Types: cuda; Flags: exclusive
Name: "provider\directml"; Description: "{cm:ProviderDirectML}"; Types: directml; Flags: exclusive

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "firewall"; Description: "{cm:FirewallTask}"; Flags: unchecked

[Files]
; Everything but ONNX Runtime, from the CPU bundle (the three bundles are identical there).
Source: "{#BuildRoot}\cpu\tandem\*"; DestDir: "{app}"; Excludes: "\{#Ort}\*,\_internal\onnxruntime*.dist-info\*"; Flags: ignoreversion recursesubdirs createallsubdirs; Components: main
Source: "{#BuildRoot}\cpu\tandem\{#Ort}\*"; DestDir: "{app}\{#Ort}"; Flags: ignoreversion recursesubdirs createallsubdirs; Components: provider\cpu
Source: "{#BuildRoot}\cuda\tandem\{#Ort}\*"; DestDir: "{app}\{#Ort}"; Flags: ignoreversion recursesubdirs createallsubdirs; Components: provider\cuda
Source: "{#BuildRoot}\directml\tandem\{#Ort}\*"; DestDir: "{app}\{#Ort}"; Flags: ignoreversion recursesubdirs createallsubdirs; Components: provider\directml

[InstallDelete]
; Changing the provider on reinstall: never leave another flavour's DLLs behind.
Type: filesandordirs; Name: "{app}\{#Ort}"

[Icons]
Name: "{group}\Tandem"; Filename: "{app}\tandemw.exe"
Name: "{group}\{cm:UninstallProgram,Tandem}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Tandem"; Filename: "{app}\tandemw.exe"; Tasks: desktopicon

[Registry]
; Lets an IT person type `tandem doctor` in a new console (App Paths covers Win+R / start).
Root: HKLM; Subkey: "Software\Microsoft\Windows\CurrentVersion\App Paths\tandem.exe"; ValueType: string; ValueName: ""; ValueData: "{app}\tandem.exe"; Flags: uninsdeletekey

[Run]
; Storage SCP (`tandem listen`, the GUI's receiver): allow inbound DICOM to Tandem only.
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Tandem DICOM"" dir=in action=allow program=""{app}\tandemw.exe"" enable=yes"; Flags: runhidden; Tasks: firewall
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Tandem DICOM (CLI)"" dir=in action=allow program=""{app}\tandem.exe"" enable=yes"; Flags: runhidden; Tasks: firewall
Filename: "{app}\tandemw.exe"; Description: "{cm:LaunchProgram,Tandem}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Tandem DICOM"""; Flags: runhidden; RunOnceId: "fwgui"
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Tandem DICOM (CLI)"""; Flags: runhidden; RunOnceId: "fwcli"

; The uninstaller removes only what it installed: each user's data folder
; (%LOCALAPPDATA%\Tandem: study database, received studies, readings, logs, settings) stays.

[CustomMessages]
fr.TypeCpu=Processeur seulement (CPU)
en.TypeCpu=Processor only (CPU)
fr.TypeCuda=Carte graphique NVIDIA (CUDA)
en.TypeCuda=NVIDIA graphics card (CUDA)
fr.TypeDirectML=Toute carte graphique DirectX 12 (DirectML)
en.TypeDirectML=Any DirectX 12 graphics card (DirectML)
fr.ProviderGroup=Moteur de calcul de l'IA (ONNX Runtime)
en.ProviderGroup=AI compute engine (ONNX Runtime)
fr.ProviderCpu=CPU : fonctionne partout
en.ProviderCpu=CPU: works everywhere
fr.ProviderCuda=CUDA : pilote NVIDIA, CUDA 12 et cuDNN 9 requis ; sinon retour au CPU
en.ProviderCuda=CUDA: needs the NVIDIA driver, CUDA 12 and cuDNN 9; falls back to the CPU otherwise
fr.ProviderDirectML=DirectML : Windows 10 1903 ou plus récent, carte DirectX 12
en.ProviderDirectML=DirectML: Windows 10 1903 or later, DirectX 12 graphics card
fr.FirewallTask=Autoriser la réception DICOM dans le pare-feu Windows (PACS, modalités)
en.FirewallTask=Allow incoming DICOM in Windows Firewall (PACS, modalities)
