from django.contrib import admin

from .models import Contact, Notification


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("key", "email", "phone", "language")
    search_fields = ("key", "email", "phone")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "contact", "channel", "status", "attempts", "created_at")
    list_filter = ("channel", "status", "kind")
