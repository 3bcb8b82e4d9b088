; The twin-app installer for Windows (NSIS 3, Unicode): the PyInstaller bundle under Program Files, Start-menu and
; desktop shortcuts, an uninstaller in Add/Remove Programs, and the per-machine configuration in ProgramData.
;
; Built by `packaging/build.sh nsis` (the GitHub workflow .github/workflows/windows-bundle.yml on Windows; on Linux
; the same command compiles it against the Linux bundle's file list, a check that the script is sound):
;
;   python packaging/windows/filelist.py dist/twin-app build/nsis
;   makensis -WX -INPUTCHARSET UTF8 -DVERSION=0.1.0 -DVERSION_QUAD=0.1.0.0 -DFILELIST_DIR=build/nsis
;            -DASSETS_DIR=assets -DCONFIG_FILE=build/nsis/config.toml -DOUTFILE=dist/twin-app-0.1.0-setup.exe
;            packaging/windows/twin-app.nsi
;
; Silent: twin-app-X-setup.exe /S [/D=C:\path] installs; "%ProgramFiles%\twin-app\uninstall.exe" /S removes the
; program and keeps the configuration (as `dpkg -r` does); the interactive uninstaller asks whether to remove it too.

Unicode true

!ifndef VERSION
  !error "makensis -DVERSION=x.y.z (packaging/build.sh nsis passes pyproject.toml's version)"
!endif
!ifndef VERSION_QUAD
  !define VERSION_QUAD "0.0.0.0"
!endif
!ifndef FILELIST_DIR
  !error "makensis -DFILELIST_DIR=DIR: the include files of packaging/windows/filelist.py"
!endif
!ifndef ASSETS_DIR
  !error "makensis -DASSETS_DIR=DIR: the folder of twin-app.ico"
!endif
!ifndef CONFIG_FILE
  !error "makensis -DCONFIG_FILE=FILE: the per-machine configuration to install"
!endif
!ifndef OUTFILE
  !define OUTFILE "twin-app-${VERSION}-setup.exe"
!endif

!include "${FILELIST_DIR}/bundle.nsh"  ; MAIN_EXE, WINDOW_EXE, BUNDLE_SIZE_KB
!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"

!define PRODUCT "twin-app"
!define PUBLISHER "Mumianling twin_app engineers"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\twin-app"
!define APP_KEY "Software\twin-app"
!define CONFIG_DIR "$APPDATA\twin-app"  ; with SetShellVarContext all: ProgramData\twin-app, the per-machine config

Name "${PRODUCT} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "${APP_KEY}" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
ShowInstDetails show
ShowUninstDetails show
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION_QUAD}"
VIFileVersion "${VERSION_QUAD}"
VIAddVersionKey /LANG=0 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "FileDescription" "${PRODUCT} installer: the Mumianling digital twin"
VIAddVersionKey /LANG=0 "LegalCopyright" "${PUBLISHER}"

!define MUI_ICON "${ASSETS_DIR}/twin-app.ico"
!define MUI_UNICON "${ASSETS_DIR}/twin-app.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${WINDOW_EXE}"
!define MUI_FINISHPAGE_RUN_NOTCHECKED

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"

LangString NEEDS_64BIT ${LANG_ENGLISH} "twin-app needs 64-bit Windows."
LangString NEEDS_64BIT ${LANG_SIMPCHINESE} "twin-app 需要 64 位 Windows。"
LangString REMOVE_CONFIG ${LANG_ENGLISH} "Also remove the configuration in ${CONFIG_DIR}?"
LangString REMOVE_CONFIG ${LANG_SIMPCHINESE} "同时删除 ${CONFIG_DIR} 中的配置吗？"
LangString SHORTCUT_UNINSTALL ${LANG_ENGLISH} "Uninstall twin-app"
LangString SHORTCUT_UNINSTALL ${LANG_SIMPCHINESE} "卸载 twin-app"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "$(NEEDS_64BIT)" /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Section "twin-app" SecMain
  SectionIn RO

  ; An earlier version: its own uninstaller removes exactly its files first (the configuration stays).
  ReadRegStr $0 HKLM "${APP_KEY}" "InstallDir"
  ${If} $0 != ""
  ${AndIf} ${FileExists} "$0\uninstall.exe"
    DetailPrint "Removing the installed version in $0"
    ExecWait '"$0\uninstall.exe" /S _?=$0'
    Delete "$0\uninstall.exe"
    RMDir "$0"
  ${EndIf}

  SetOutPath "$INSTDIR"
  !include "${FILELIST_DIR}/install.nsh"

  ; The per-machine configuration: installed once, never overwritten (an administrator's edits survive upgrades).
  CreateDirectory "${CONFIG_DIR}"
  ${IfNot} ${FileExists} "${CONFIG_DIR}\config.toml"
    SetOutPath "${CONFIG_DIR}"
    File "/oname=config.toml" "${CONFIG_FILE}"
    SetOutPath "$INSTDIR"
  ${EndIf}

  ; Shortcuts: the window (no console) in the Start menu and on the desktop.
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk" "$INSTDIR\${WINDOW_EXE}" "" "$INSTDIR\${WINDOW_EXE}" 0
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\$(SHORTCUT_UNINSTALL).lnk" "$INSTDIR\uninstall.exe"
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${WINDOW_EXE}" "" "$INSTDIR\${WINDOW_EXE}" 0

  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${MAIN_EXE}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" ${BUNDLE_SIZE_KB}
SectionEnd

Section "Uninstall"
  ; exactly the files this version installed, then its folders if empty (a user's own files stay)
  !include "${FILELIST_DIR}/uninstall.nsh"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  Delete "$DESKTOP\${PRODUCT}.lnk"
  Delete "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk"
  Delete "$SMPROGRAMS\${PRODUCT}\$(SHORTCUT_UNINSTALL).lnk"
  RMDir "$SMPROGRAMS\${PRODUCT}"
  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "${APP_KEY}"

  ; The configuration is kept unless the user says otherwise (silent uninstall: kept).
  MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "$(REMOVE_CONFIG)" /SD IDNO IDNO keep_config
    Delete "${CONFIG_DIR}\config.toml"
    RMDir "${CONFIG_DIR}"
  keep_config:
SectionEnd
