"""Device management: reset, availability, charging profiles, reservations, the local list
and cache, triggered messages, firmware, diagnostics and data transfer."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .clock import sleep_until
from .core import StationCore, tx_key
from .profiles import ChargingProfile, Purpose, floor_tenth, merge_periods, validation_error
from .state import Evse, Reservation

logger = logging.getLogger("chargegrid.simulator")


CERTIFICATE_TRIGGERS = {
    "SignChargingStationCertificate": "ChargingStationCertificate",
    "SignV2GCertificate": "V2GCertificate",
}


@dataclass(frozen=True)
class CompositeSchedule:
    evse_id: int
    start: datetime
    duration: int
    unit: str
    periods: list[tuple[int, float]]  # (seconds from start, limit)

    def period_list(self) -> list[dict[str, Any]]:
        """The periods as both versions' ``chargingSchedulePeriod`` has them."""
        return [{"start_period": offset, "limit": limit} for offset, limit in self.periods]


class DeviceMixin(StationCore):
    def reset_accept(self, kind: str) -> str:
        """kind: Soft, Hard (1.6), Immediate, OnIdle (2.0.1).  Accepted or Scheduled."""
        if kind == "OnIdle" and any(e.transaction for e in self.evses.values()):
            self._reset_when_idle = kind
            return "Scheduled"
        return "Accepted"

    async def reset(self, kind: str) -> None:
        stop_reason = {"Soft": "SoftReset", "Hard": "HardReset"}.get(kind, "ImmediateReset")
        await self.security_event("ResetOrReboot", f"{kind} reset requested by the CSMS")
        await self.reboot(stop_reason=stop_reason, boot_reason="RemoteReset")

    async def unlock(self, evse: Evse) -> None:
        """1.6 UnlockConnector during a transaction ends it first."""
        if evse.transaction is not None:
            await self._end_transaction(evse, reason="UnlockCommand")

    def change_availability(self, evse_id: int, operative: bool) -> str:
        """evse_id 0: the whole station.  Accepted, Scheduled (after the running transaction)
        or Rejected."""
        if evse_id and evse_id not in self.evses:
            return "Rejected"
        self._settle()
        targets = list(self.evses.values()) if evse_id == 0 else [self.evses[evse_id]]
        scheduled = False
        for evse in targets:
            if evse.transaction is not None and not operative:
                evse.scheduled_operative = False
                scheduled = True
            else:
                evse.operative, evse.scheduled_operative = operative, None
        return "Scheduled" if scheduled else "Accepted"

    async def availability_changed(self, evse_id: int) -> None:
        if evse_id == 0:
            await self._send(self._proto.station_status_notification())
        await self.refresh_statuses()

    def check_profile(self, profile: ChargingProfile) -> str | None:
        """Why this station cannot take ``profile`` (transactions aside), or None."""
        return validation_error(
            profile,
            evse_count=self.config.evse_count,
            max_stack_level=self.settings.get_int("ChargeProfileMaxStackLevel"),
            allowed_units=self.allowed_units(),
            max_periods=self.settings.get_int("ChargingScheduleMaxPeriods"),
        )

    def set_charging_profile(self, profile: ChargingProfile) -> str | None:
        """Install a profile; returns why it is refused, or None when accepted."""
        error = self.check_profile(profile)
        if error:
            return error
        if profile.purpose == Purpose.TX:
            tx = self.evses[profile.evse_id].transaction
            if tx is None:
                return "a TxProfile needs a running transaction"
            if profile.transaction_id is not None and profile.transaction_id != tx_key(tx):
                return f"no transaction {profile.transaction_id} on EVSE {profile.evse_id}"
        replaces = any(
            p.id == profile.id
            or (p.evse_id, p.purpose, p.stack_level)
            == (profile.evse_id, profile.purpose, profile.stack_level)
            for p in self.profiles
        )
        if not replaces and len(self.profiles) >= self.settings.get_int(
            "MaxChargingProfilesInstalled"
        ):
            return "too many profiles installed"
        self._settle()  # energy so far was delivered under the old limits
        self.profiles.install(profile)
        self._allocate(self.clock.now())
        return None

    def clear_charging_profiles(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        self._settle()
        removed = self.profiles.clear(
            profile_id=profile_id, evse_id=evse_id, purpose=purpose, stack_level=stack_level
        )
        self._allocate(self.clock.now())
        return removed > 0

    def allowed_units(self) -> set[str]:
        if self.version == "1.6":
            names = {"Current": "A", "Power": "W"}
            return {
                names[u]
                for u in self.settings.get_list("ChargingScheduleAllowedChargingRateUnit")
                if u in names
            }
        return set(self.settings.get_list("RateUnit"))

    def composite_schedule(
        self, evse_id: int, duration: int, unit: str | None
    ) -> CompositeSchedule | None:
        """What the station will apply from now for ``duration`` seconds: hardware, station
        maximum and transaction limits combined.  None when the EVSE or unit is unknown."""
        allowed = self.allowed_units()
        unit = unit or ("A" if "A" in allowed else "W")
        if unit not in allowed or (evse_id and evse_id not in self.evses):
            return None
        self._settle()
        start = self.clock.now()
        end = start + timedelta(seconds=duration)
        # Without a transaction, relative profiles count from now, as for a session
        # starting now.
        tx_starts = {e.id: self._tx_start(e) or start for e in self.evses.values()}
        moments = [start, *(m for m in self.profiles.boundaries(start, end, tx_starts) if m < end)]
        voltage = self.config.voltage
        points = []
        for moment in moments:
            if evse_id == 0:
                hardware = sum(e.max_current_a for e in self.evses.values())
                station = self._station_cap_a(moment)
                amps_now = hardware if station is None else min(hardware, station)
                phases = self.config.phases
            else:
                evse = self.evses[evse_id]
                amps_now = self._evse_cap_a(evse, moment, tx_starts[evse_id])
                phases = evse.phases
            value = amps_now if unit == "A" else amps_now * voltage * phases
            points.append((int((moment - start).total_seconds()), floor_tenth(value)))
        return CompositeSchedule(evse_id, start, duration, unit, merge_periods(points))

    async def limits_changed(self) -> None:
        """After a profile change: report what changed for the vehicles."""
        await self.refresh_statuses()

    def reserve(
        self,
        reservation_id: int,
        evse_id: int | None,
        id_tag: str,
        expires_at: datetime,
        parent_id_tag: str | None = None,
    ) -> str:
        """Accepted, Faulted, Occupied, Rejected or Unavailable.  evse_id None: any EVSE."""
        if evse_id == 0:
            return "Rejected"  # ReserveConnectorZeroSupported is false
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                self._end_reservation(evse)
        if evse_id is None:
            free = [e for e in self.evses.values() if e.status() == "Available"]
            if not free:
                return "Occupied"
            evse = free[0]
        elif evse_id not in self.evses:
            return "Rejected"
        else:
            evse = self.evses[evse_id]
        if evse.fault:
            return "Faulted"
        if not evse.operative:
            return "Unavailable"
        if evse.status() != "Available":
            return "Occupied"
        evse.reservation = Reservation(reservation_id, evse.id, id_tag, expires_at, parent_id_tag)
        self._set_timer(
            f"reservation-{evse.id}", expires_at, lambda: self._expire_reservation(evse)
        )
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> Reservation | None:
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                reservation = evse.reservation
                self._end_reservation(evse)
                return reservation
        return None

    def _end_reservation(self, evse: Evse) -> None:
        evse.reservation = None
        self._cancel_timer(f"reservation-{evse.id}")

    async def _expire_reservation(self, evse: Evse) -> None:
        reservation = evse.reservation
        if reservation is None:
            return
        evse.reservation = None
        await self._send(self._proto.reservation_ended(reservation, "Expired"))
        await self._refresh_status(evse)

    def update_local_list(
        self, version: int, full: bool, entries: list[tuple[str, str | None]]
    ) -> str:
        """Accepted, Failed or VersionMismatch.  An entry's status None removes it."""
        if not self.settings.get_bool("LocalAuthListEnabled"):
            return "Failed"
        if not full and version <= self.local_list_version:
            return "VersionMismatch"
        if len(entries) > self.settings.get_int("SendLocalListMaxLength"):
            return "Failed"
        updated = {} if full else dict(self.local_list)
        for id_tag, status in entries:
            if status is None:
                updated.pop(id_tag, None)
            else:
                updated[id_tag] = status
        if len(updated) > self.settings.get_int("LocalAuthListMaxLength"):
            return "Failed"
        self.local_list, self.local_list_version = updated, version
        return "Accepted"

    def trigger_accept(self, message: str, evse_id: int | None) -> str:
        """Accepted, Rejected or NotImplemented (names as in the version's enum)."""
        supported = {
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "DiagnosticsStatusNotification",
            "LogStatusNotification",
            "TransactionEvent",
        }
        if self.version == "2.0.1":
            supported |= set(CERTIFICATE_TRIGGERS)  # A02/A03 (ISO 15118 station)
        if message not in supported:
            return "NotImplemented"
        if evse_id and evse_id not in self.evses:
            return "Rejected"
        if message == "BootNotification" and self.version == "2.0.1" and self._online:
            return "Rejected"  # F06.FR.17: only while not yet accepted
        if message == "TransactionEvent":
            evses = [self.evses[evse_id]] if evse_id else list(self.evses.values())
            if not any(e.transaction for e in evses):
                return "Rejected"
        return "Accepted"

    async def triggered(self, message: str, evse_id: int | None) -> None:
        evses = [self.evses[evse_id]] if evse_id else list(self.evses.values())
        if message == "BootNotification":
            await self._boot()
        elif message == "Heartbeat":
            await self._send(self._proto.heartbeat())
        elif message == "StatusNotification":
            if not evse_id:
                await self._send(self._proto.station_status_notification())
            for evse in evses:
                await self._refresh_status(evse, force=True)
        elif message == "MeterValues":
            for evse in evses:
                await self.send_meter_values(evse.id, context="Trigger")
        elif message == "TransactionEvent":
            self._settle()
            for evse in evses:
                if evse.transaction is not None:
                    await self._enqueue(
                        self._proto.transaction_updated(
                            evse.transaction, evse, self._reading(evse), "Trigger"
                        )
                    )
        elif message in CERTIFICATE_TRIGGERS:
            await self.sign_certificate(CERTIFICATE_TRIGGERS[message])
        elif message == "FirmwareStatusNotification":
            await self._send(self._proto.firmware_status(self.firmware_status, None))
        else:  # DiagnosticsStatusNotification / LogStatusNotification
            await self._send(self._proto.upload_status(self.upload_state, None))

    async def sign_certificate(self, certificate_type: str) -> str | None:
        """A02/A03: a new key pair (kept until the CSMS answers), its CSR (CN = identity) sent
        in SignCertificate; the CSMS's status (Accepted / Rejected), None if it did not go."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.identity)]))
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
            .decode()
        )
        self.pending_keys = {**getattr(self, "pending_keys", {}), certificate_type: key}
        answer = await self._send(self._proto.sign_certificate(csr, certificate_type))
        return getattr(answer, "status", None)

    def certificate_signed(self, chain: str, certificate_type: str) -> str:
        """CertificateSigned: installed when the leaf holds the key this station generated."""
        from cryptography import x509

        key = getattr(self, "pending_keys", {}).get(certificate_type)
        try:
            leaf = x509.load_pem_x509_certificates(chain.encode())[0]
        except (ValueError, IndexError):
            return "Rejected"
        if key is None or leaf.public_key() != key.public_key():
            return "Rejected"
        self.certificates = {**getattr(self, "certificates", {}), certificate_type: chain}
        self.pending_keys.pop(certificate_type, None)
        return "Accepted"

    # --- Installed roots (2.0.1 M03-M05; 1.6 security whitepaper) ---------------------------
    # Kept per type as PEM; identified by hash data (SHA256, hex lower case) as OCPP does.

    def install_certificate(self, certificate_type: str, certificate: str) -> str:
        """InstallCertificate: Accepted for one well-formed CA certificate, else Rejected."""
        from cryptography import x509

        try:
            parsed = x509.load_pem_x509_certificate(certificate.encode())
            is_ca = parsed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except (ValueError, x509.ExtensionNotFound):
            return "Rejected"
        if not is_ca:
            return "Rejected"
        installed = getattr(self, "installed_roots", [])
        serial = parsed.serial_number
        installed = [(t, c) for t, c in installed if c.serial_number != serial]
        self.installed_roots = [*installed, (certificate_type, parsed)]
        return "Accepted"

    def installed_certificate_ids(self, certificate_types: list[str] | None) -> list[tuple]:
        """(type, hash data in OCPP's camelCase) of the roots held, of the types asked."""
        return [
            (kind, certificate_hash_data(certificate))
            for kind, certificate in getattr(self, "installed_roots", [])
            if not certificate_types or kind in certificate_types
        ]

    def delete_certificate(self, hash_data: dict) -> str:
        """DeleteCertificate: Accepted when a held root has that hash data, else NotFound."""
        installed = getattr(self, "installed_roots", [])

        def key(data: dict) -> tuple:  # camelCase or snake_case (as the library hands it)
            return tuple(
                str(data.get(camel, data.get(snake, ""))).lower().lstrip("0")
                for camel, snake in (
                    ("hashAlgorithm", "hash_algorithm"),
                    ("issuerNameHash", "issuer_name_hash"),
                    ("issuerKeyHash", "issuer_key_hash"),
                    ("serialNumber", "serial_number"),
                )
            )

        kept = [
            (kind, certificate)
            for kind, certificate in installed
            if key(certificate_hash_data(certificate)) != key(hash_data)
        ]
        if len(kept) == len(installed):
            return "NotFound"
        self.installed_roots = kept
        return "Accepted"

    def firmware_update_accept(self) -> bool:
        """One update at a time; the caller then runs update_firmware."""
        if self._firmware_busy:
            return False
        self._firmware_busy = True
        return True

    async def update_firmware(
        self,
        location: str,
        *,
        retrieve_at: datetime | None,
        install_at: datetime | None = None,
        request_id: int | None = None,
        signed: bool = False,
        signature: str = "",
        certificate: str = "",
    ) -> None:
        """Download, install, reboot, report.  The transfer is simulated (no bytes move): it
        takes ``transfer_seconds`` per step and fails for a scheme the station does not
        support; with ``download_firmware`` the image is really fetched and verified.  The new
        version is read from the file name (``.../fw-2.1.0.bin`` → 2.1.0)."""
        self._firmware_signature = (signature, certificate)
        try:
            await self._run_firmware_update(location, retrieve_at, install_at, request_id, signed)
        finally:
            self._firmware_busy = False

    async def _run_firmware_update(
        self,
        location: str,
        retrieve_at: datetime | None,
        install_at: datetime | None,
        request_id: int | None,
        signed: bool,
    ) -> None:
        if retrieve_at is not None and retrieve_at > self.clock.now():
            await self._firmware_step("DownloadScheduled", request_id)
            await sleep_until(self.clock, retrieve_at)
        await self._firmware_step("Downloading", request_id)
        await self.clock.sleep(self.config.transfer_seconds)
        failure = self.config.firmware_failure
        image = b""
        if self._transfer_possible(location) and self.config.download_firmware:
            image = await asyncio.to_thread(download_image, location)
        if failure == "DownloadFailed" or image is None or not self._transfer_possible(location):
            await self._firmware_step("DownloadFailed", request_id)
            self.firmware_status = "Idle"
            return
        await self._firmware_step("Downloaded", request_id)
        if signed:
            signature, certificate = self._firmware_signature
            if failure == "InvalidSignature" or (
                self.config.download_firmware and not signature_valid(image, signature, certificate)
            ):
                await self._firmware_step("InvalidSignature", request_id)
                self.firmware_status = "Idle"
                return
            await self._firmware_step("SignatureVerified", request_id)
        elif failure == "InvalidSignature":
            await self._firmware_step("InvalidSignature", request_id)
            self.firmware_status = "Idle"
            return
        if install_at is not None and install_at > self.clock.now():
            await self._firmware_step("InstallScheduled", request_id)
            await sleep_until(self.clock, install_at)
        if any(e.transaction for e in self.evses.values()):
            await self._firmware_step("InstallScheduled", request_id)
            while any(e.transaction for e in self.evses.values()):
                await self.clock.sleep(1)
        await self._firmware_step("Installing", request_id)
        await self.clock.sleep(self.config.transfer_seconds)
        if failure == "InstallationFailed":
            await self._firmware_step("InstallationFailed", request_id)
            self.firmware_status = "Idle"
            return
        await self._firmware_step("InstallRebooting", request_id)
        if failure == "InstallVerificationFailed":  # the new image does not start: old one runs
            await self.reboot(stop_reason="Reboot", boot_reason="FirmwareUpdate")
            while not self.online:
                await asyncio.sleep(0.05)
            await self._firmware_step("InstallVerificationFailed", request_id)
            self.firmware_status = "Idle"
            return
        self.firmware_version = version_from_location(location)
        await self.reboot(stop_reason="Reboot", boot_reason="FirmwareUpdate")
        while not self.online:
            await asyncio.sleep(0.05)
        await self._firmware_step("Installed", request_id)
        self.firmware_status = "Idle"
        await self.security_event("FirmwareUpdated", f"now running {self.firmware_version}")

    async def _firmware_step(self, status: str, request_id: int | None) -> None:
        self.firmware_status = status
        await self._send(self._proto.firmware_status(status, request_id))

    def log_file_name(self) -> str:
        return f"{self.identity}-{self.clock.now():%Y%m%dT%H%M%SZ}.log"

    async def upload_log(self, location: str, request_id: int | None) -> None:
        """Simulated upload of the diagnostics / log file: Uploading, then Uploaded, or Failed
        for a scheme the station does not support."""
        self.upload_state = "Uploading"
        await self._send(self._proto.upload_status("Uploading", request_id))
        await self.clock.sleep(self.config.transfer_seconds)
        outcome = "Uploaded" if self._transfer_possible(location) else "Failed"
        await self._send(self._proto.upload_status(outcome, request_id))
        self.upload_state = "Idle"

    def _transfer_possible(self, location: str) -> bool:
        scheme = urlparse(location).scheme.upper()
        return scheme in set(self.settings.get_list("SupportedFileTransferProtocols"))

    def play_manifest(self, data: Any) -> tuple[str, Any]:
        """Load a media manifest (a real screen would then play it on its schedule): answer
        Accepted with the digest of the manifest it got, or Rejected."""
        loaded = fetch_manifest(data)
        if loaded is None:
            return "Rejected", None
        body, manifest = loaded
        self.__dict__.setdefault("media_manifests", {})[manifest["schedule"]] = manifest
        digest = hashlib.sha256(body).hexdigest()
        return "Accepted", json.dumps({"digest": digest, "items": len(manifest["items"])})

    def clear_cache(self) -> None:
        self.auth_cache.clear()

    def handle_data_transfer(
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> tuple[str, Any]:
        if vendor_id == MEDIA_VENDOR and message_id == "PlayManifest" and self.config.screen:
            return self.play_manifest(data)
        handler = self.data_transfer_handlers.get((vendor_id, message_id))
        handler = handler or self.data_transfer_handlers.get((vendor_id, None))
        if handler is not None:
            return handler(data)
        if any(vendor == vendor_id for vendor, _ in self.data_transfer_handlers):
            return "UnknownMessageId", None
        return "UnknownVendorId", None


MEDIA_VENDOR = "org.chargegrid.media"


def fetch_manifest(data: Any) -> tuple[bytes, dict[str, Any]] | None:
    """The manifest a PlayManifest DataTransfer points at, with every item fetched and checked
    against its size and SHA-256; None when anything is missing or wrong."""
    try:
        url = json.loads(data)["manifestUrl"]
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            body = response.read()
        manifest = json.loads(body)
        for item in manifest["items"]:
            with urllib.request.urlopen(item["url"], timeout=30) as response:  # noqa: S310
                content = response.read()
            if (
                len(content) != item["bytes"]
                or hashlib.sha256(content).hexdigest() != item["sha256"]
            ):
                return None
    except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as error:
        logger.info("media manifest not loaded: %s", error)
        return None
    return body, manifest


def download_image(location: str) -> bytes | None:
    """Fetch an image over HTTP(S); None when the transfer fails or the bytes do not match
    the size and SHA-256 the server states (``Content-Length``, ``X-Checksum-SHA256``)."""
    try:
        with urllib.request.urlopen(location, timeout=30) as response:  # noqa: S310 (http(s) only)
            data = response.read()
            expected = response.headers.get("X-Checksum-SHA256", "")
            length = response.headers.get("Content-Length")
    except (urllib.error.URLError, OSError, ValueError) as error:
        logger.info("firmware download from %s failed: %s", location, error)
        return None
    if length is not None and int(length) != len(data):
        return None
    if expected and hashlib.sha256(data).hexdigest() != expected.lower():
        return None
    return data


def certificate_hash_data(certificate) -> dict[str, str]:
    """OCPP CertificateHashData (SHA256) of a self-signed root (its own issuer)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    request = (
        ocsp.OCSPRequestBuilder().add_certificate(certificate, certificate, hashes.SHA256()).build()
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": format(request.serial_number, "x"),
    }


def signature_valid(image: bytes, signature: str, certificate: str) -> bool:
    """The vendor's signature of the image (RSA PKCS#1 v1.5 or ECDSA, SHA-256), checked with
    the public key of its signing certificate, as a station does before installing."""
    try:
        key = x509.load_pem_x509_certificate(certificate.encode()).public_key()
        raw = base64.b64decode(signature, validate=True)
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, image, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, image, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def version_from_location(location: str) -> str:
    """The firmware version in a download URL's file name: ``fw-2.1.0.bin`` → ``2.1.0``."""
    name = urlparse(location).path.rsplit("/", 1)[-1]
    found = re.search(r"\d+(?:\.\d+)+", name)
    if found:
        return found.group(0)
    return name.rsplit(".", 1)[0] or "unknown"
