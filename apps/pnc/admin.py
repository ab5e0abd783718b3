from django.contrib import admin

from .models import OcspResponse, PncSettings, StationCertificate, TrustedRoot


@admin.register(PncSettings)
class PncSettingsAdmin(admin.ModelAdmin):
    list_display = ["pool_url", "pool_timeout_seconds", "accept_unknown_ocsp"]


@admin.register(StationCertificate)
class StationCertificateAdmin(admin.ModelAdmin):
    list_display = ["station", "certificate_type", "serial_number", "not_after", "status"]
    list_filter = ["certificate_type", "status"]
    raw_id_fields = ["station"]


@admin.register(TrustedRoot)
class TrustedRootAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "not_after"]


@admin.register(OcspResponse)
class OcspResponseAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "cert_status", "this_update", "next_update"]
