from django.apps import AppConfig


class PncConfig(AppConfig):
    name = "apps.pnc"
    label = "pnc"
    verbose_name = "Plug & Charge"

    def ready(self) -> None:
        from apps.core import policies
        from apps.core.permissions import register

        from . import services

        register("pnc.view", "See the Plug & Charge CA, station certificates and trusted roots")
        register("pnc.manage", "Upload trusted eMobility roots and OCSP responses")
        policies.register(policies.CERTIFICATE_SIGN, services.certificate_sign)
        policies.register(policies.CONTRACT_AUTHORIZATION, services.contract_authorize)
        policies.register(policies.EV_CERTIFICATE, services.ev_certificate)
        policies.register(policies.CERTIFICATE_STATUS, services.certificate_status)
