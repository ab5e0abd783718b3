"""Webhooks from the portal (issue 13, parity): list, add (secret shown once), edit, test
ping, new secret, delete, the delivery log and redelivery; through the services the API
calls; only for people who hold the permission on every site."""

from __future__ import annotations

from django.urls import reverse

from apps.webhooks import services
from apps.webhooks.models import Webhook, WebhookDelivery

HOOK = {
    "name": "ERP",
    "url": "https://erp.example.com/hooks",
    "events": ["session.ended", "alert.raised"],
    "is_active": "on",
}


def test_owner_adds_edits_pings_rotates_and_deletes_a_webhook(personas, alpha_sites, client_for):
    a1, _ = alpha_sites
    client = client_for(personas.owner)
    empty = client.get(reverse("webhooks:webhook_list")).content.decode()
    assert "No webhooks yet" in empty and reverse("webhooks:webhook_list") in empty  # nav

    created = client.post(reverse("webhooks:webhook_create"), {**HOOK, "sites": [a1.pk]})
    webhook = Webhook.objects.get(name="ERP")
    assert created.status_code == 201 and created["Cache-Control"] == "no-store"
    assert webhook.secret in created.content.decode()
    assert webhook.events == ["alert.raised", "session.ended"]
    assert list(webhook.sites.all()) == [a1]
    detail = client.get(reverse("webhooks:webhook_detail", args=[webhook.pk])).content.decode()
    assert webhook.secret not in detail and "erp.example.com" in detail

    edited = client.post(
        reverse("webhooks:webhook_edit", args=[webhook.pk]),
        {**HOOK, "events": ["station.connected"], "is_active": ""},
    )
    assert edited.status_code == 302
    webhook.refresh_from_db()
    assert webhook.events == ["station.connected"] and not webhook.is_active
    assert not webhook.sites.exists()

    assert client.post(reverse("webhooks:webhook_ping", args=[webhook.pk])).status_code == 302
    ping = WebhookDelivery.objects.get(webhook=webhook)
    assert ping.event == "ping"

    old_secret = webhook.secret
    rotated = client.post(reverse("webhooks:webhook_rotate_secret", args=[webhook.pk]))
    webhook.refresh_from_db()
    assert rotated.status_code == 200 and webhook.secret != old_secret
    assert webhook.secret in rotated.content.decode()

    assert client.post(reverse("webhooks:webhook_delete", args=[webhook.pk])).status_code == 302
    assert not Webhook.objects.filter(pk=webhook.pk).exists()


def test_webhook_mistakes_are_shown_next_to_their_fields(personas, client_for):
    client = client_for(personas.owner)
    response = client.post(
        reverse("webhooks:webhook_create"), {"name": "x", "url": "not a url", "events": []}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid URL." in page and "This field is required." in page
    french = client_for(personas.owner)
    french.cookies["django_language"] = "fr"
    page = french.post(reverse("webhooks:webhook_create"), {"name": "x"}).content.decode()
    assert "Ce champ est obligatoire." in page and "Adresse" in page
    assert "Ajouter un webhook" in page and "Seulement ces sites" in page
    assert not Webhook.objects.exists()


def test_the_delivery_log_and_redelivery(personas, client_for):
    webhook = services.webhook_create(
        name="CRM",
        url="https://crm.example.com/",
        events=["session.ended"],
        created_by=personas.owner,
    )
    original = services.webhook_ping(webhook=webhook)
    client = client_for(personas.owner)
    log = client.get(reverse("webhooks:delivery_list"), {"webhook_id": webhook.pk})
    assert log.status_code == 200 and f'data-delivery="{original.pk}"' in log.content.decode()
    detail = client.get(reverse("webhooks:delivery_detail", args=[original.pk])).content.decode()
    assert str(original.uuid) in detail and "Send again" in detail

    again = client.post(reverse("webhooks:delivery_redeliver", args=[original.pk]))
    copy = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert again.status_code == 302 and again.url.endswith(f"/deliveries/{copy.pk}/")
    assert copy.payload == original.payload and copy.uuid != original.uuid


def test_webhooks_are_for_who_holds_the_permission_on_every_site(personas, client_for):
    webhook = services.webhook_create(
        name="KEEP",
        url="https://keep.example.com/",
        events=["session.ended"],
        created_by=personas.owner,
    )
    delivery = services.webhook_ping(webhook=webhook)
    for user in (personas.delegate, personas.fleet_manager, personas.outsider):
        client = client_for(user)
        for response in (
            client.get(reverse("webhooks:webhook_list")),
            client.get(reverse("webhooks:delivery_detail", args=[delivery.pk])),
            client.post(reverse("webhooks:webhook_create"), HOOK),
            client.post(reverse("webhooks:webhook_delete", args=[webhook.pk])),
            client.post(reverse("webhooks:webhook_rotate_secret", args=[webhook.pk])),
            client.post(reverse("webhooks:delivery_redeliver", args=[delivery.pk])),
        ):
            assert response.status_code == 403, (user, response.request)
    assert list(Webhook.objects.values_list("name", flat=True)) == ["KEEP"]
    assert WebhookDelivery.objects.count() == 1
    anonymous = client_for().get(reverse("webhooks:webhook_list"))
    assert anonymous.status_code == 302
