"""The station's settings: 1.6 configuration keys and the 2.0.1 device model, one store.

Each setting has a 1.6 key, a 2.0.1 component/variable, or both; the station reads them by the
1.6 key name.  Only settings the simulator acts on are listed, so that reading a key tells the
truth about the station's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "SoC",
)


@dataclass(frozen=True)
class Setting:
    key: str  # 1.6 configuration key; the name the station code uses
    kind: str  # int | bool | str | measurands
    default: str
    readonly: bool = False
    in_v16: bool = True
    component: str | None = None  # 2.0.1 device model
    variable: str | None = None
    instance: str | None = None
    unit: str | None = None
    reboot_required: bool = False  # takes effect at the next connection


SETTINGS: tuple[Setting, ...] = (
    Setting("HeartbeatInterval", "int", "300", component="OCPPCommCtrlr", variable="HeartbeatInterval", unit="s"),
    Setting("WebSocketPingInterval", "int", "60", component="OCPPCommCtrlr", variable="WebSocketPingInterval", unit="s", reboot_required=True),
    Setting("TransactionMessageAttempts", "int", "3", component="OCPPCommCtrlr", variable="MessageAttempts", instance="TransactionEvent"),
    Setting("TransactionMessageRetryInterval", "int", "10", component="OCPPCommCtrlr", variable="MessageAttemptInterval", instance="TransactionEvent", unit="s"),
    Setting("SupportedFileTransferProtocols", "str", "FTP,FTPS,HTTP,HTTPS", readonly=True, component="OCPPCommCtrlr", variable="FileTransferProtocols"),
    Setting("MeterValueSampleInterval", "int", "60", component="SampledDataCtrlr", variable="TxUpdatedInterval", unit="s"),
    Setting("MeterValuesSampledData", "measurands", ",".join(MEASURANDS), component="SampledDataCtrlr", variable="TxUpdatedMeasurands"),
    Setting("StopTxnSampledData", "measurands", "Energy.Active.Import.Register", component="SampledDataCtrlr", variable="TxEndedMeasurands"),
    Setting("ConnectionTimeOut", "int", "90", component="TxCtrlr", variable="EVConnectionTimeOut", unit="s"),
    Setting("StopTransactionOnInvalidId", "bool", "true", component="TxCtrlr", variable="StopTxOnInvalidId"),
    Setting("StopTransactionOnEVSideDisconnect", "bool", "true", readonly=True, component="TxCtrlr", variable="StopTxOnEVSideDisconnect"),
    # The simulator starts a transaction when the driver is authorised and the cable is in,
    # and ends it when either goes away.
    Setting("TxStartPoint", "str", "PowerPathClosed", readonly=True, in_v16=False, component="TxCtrlr", variable="TxStartPoint"),
    Setting("TxStopPoint", "str", "PowerPathClosed", readonly=True, in_v16=False, component="TxCtrlr", variable="TxStopPoint"),
    Setting("AuthorizeRemoteTxRequests", "bool", "false", component="AuthCtrlr", variable="AuthorizeRemoteStart"),
    Setting("LocalAuthorizeOffline", "bool", "true", component="AuthCtrlr", variable="LocalAuthorizeOffline"),
    Setting("LocalPreAuthorize", "bool", "false", component="AuthCtrlr", variable="LocalPreAuthorize"),
    Setting("AllowOfflineTxForUnknownId", "bool", "false", component="AuthCtrlr", variable="OfflineTxForUnknownIdEnabled"),
    Setting("AuthorizationCacheEnabled", "bool", "true", component="AuthCacheCtrlr", variable="Enabled"),
    Setting("LocalAuthListEnabled", "bool", "true", component="LocalAuthListCtrlr", variable="Enabled"),
    Setting("LocalAuthListMaxLength", "int", "1000", readonly=True),
    Setting("SendLocalListMaxLength", "int", "250", readonly=True, component="LocalAuthListCtrlr", variable="ItemsPerMessage"),
    Setting("ChargeProfileMaxStackLevel", "int", "8", readonly=True, component="SmartChargingCtrlr", variable="ProfileStackLevel"),
    Setting("ChargingScheduleAllowedChargingRateUnit", "str", "Current,Power", readonly=True),
    Setting("RateUnit", "str", "A,W", readonly=True, in_v16=False, component="SmartChargingCtrlr", variable="RateUnit"),
    Setting("ChargingScheduleMaxPeriods", "int", "24", readonly=True, component="SmartChargingCtrlr", variable="PeriodsPerSchedule"),
    Setting("MaxChargingProfilesInstalled", "int", "32", readonly=True),
    Setting("ConnectorPhaseRotation", "str", "0.RST"),
    Setting("NumberOfConnectors", "int", "1", readonly=True),
    Setting("SupportedFeatureProfiles", "str", "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", readonly=True),
    Setting("ReserveConnectorZeroSupported", "bool", "false", readonly=True),
    Setting("ReservationEnabled", "bool", "true", readonly=True, in_v16=False, component="ReservationCtrlr", variable="Enabled"),
    Setting("GetConfigurationMaxKeys", "int", "100", readonly=True),
    Setting("Model", "str", "", readonly=True, in_v16=False, component="ChargingStation", variable="Model"),
    Setting("VendorName", "str", "", readonly=True, in_v16=False, component="ChargingStation", variable="VendorName"),
    Setting("SupplyPhases", "int", "3", readonly=True, in_v16=False, component="ChargingStation", variable="SupplyPhases"),
)  # fmt: skip

BY_KEY = {s.key: s for s in SETTINGS}
COMPONENTS = {s.component for s in SETTINGS if s.component}


class SettingStore:
    def __init__(self, version: str, overrides: dict[str, str] | None = None) -> None:
        self.version = version
        self._values = {s.key: s.default for s in SETTINGS}
        for key, value in (overrides or {}).items():
            if key not in BY_KEY:
                raise KeyError(f"unknown setting {key!r}")
            self._values[key] = value

    def get(self, key: str) -> str:
        return self._values[key]

    def get_int(self, key: str) -> int:
        return int(self._values[key])

    def get_bool(self, key: str) -> bool:
        return self._values[key].lower() == "true"

    def get_list(self, key: str) -> list[str]:
        return [item.strip() for item in self._values[key].split(",") if item.strip()]

    def visible(self) -> list[Setting]:
        """The settings that exist in this station's OCPP version."""
        if self.version == "1.6":
            return [s for s in SETTINGS if s.in_v16]
        return [s for s in SETTINGS if s.component]

    def change(self, key: str, value: str, *, force: bool = False) -> str:
        """Set a value as the CSMS asks: Accepted, RebootRequired, Rejected or NotSupported.
        ``force`` lets the station itself write read-only values."""
        setting = BY_KEY.get(key)
        if setting is None or setting not in self.visible():
            return "NotSupported"
        if (setting.readonly and not force) or not _valid(setting, value):
            return "Rejected"
        self._values[key] = value.strip()
        return "RebootRequired" if setting.reboot_required else "Accepted"

    def find(self, component: str, variable: str, instance: str | None) -> Setting | str:
        """The 2.0.1 setting, or the GetVariables status explaining why there is none."""
        if component not in COMPONENTS:
            return "UnknownComponent"
        for setting in SETTINGS:
            if (setting.component, setting.variable, setting.instance) == (
                component,
                variable,
                instance,
            ):
                return setting
        return "UnknownVariable"


def _valid(setting: Setting, value: str) -> bool:
    value = value.strip()
    if setting.kind == "int":
        return value.isdigit()
    if setting.kind == "bool":
        return value.lower() in ("true", "false")
    if setting.kind == "measurands":
        items = [item.strip() for item in value.split(",") if item.strip()]
        return all(item in MEASURANDS for item in items)
    return len(value) <= 500
