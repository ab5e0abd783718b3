from django.contrib import admin

from .models import Fleet, FleetCard, Vehicle


@admin.register(Fleet)
class FleetAdmin(admin.ModelAdmin):
    list_display = ["name", "site"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["vin", "plate", "make", "model", "fleet"]


@admin.register(FleetCard)
class FleetCardAdmin(admin.ModelAdmin):
    list_display = ["token", "fleet", "vehicle", "driver_name"]
