from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("tariffs/", views.TariffListView.as_view(), name="tariff_list"),
    path("tariffs/new/", views.TariffCreateView.as_view(), name="tariff_create"),
    path("tariffs/wizard/", views.PricingWizardView.as_view(), name="tariff_wizard"),
    path("tariffs/<int:pk>/", views.TariffDetailView.as_view(), name="tariff_detail"),
    path("tariffs/<int:pk>/edit/", views.TariffEditView.as_view(), name="tariff_edit"),
    path("receipts/", views.SessionCostListView.as_view(), name="receipt_list"),
    path("receipts/<int:pk>/", views.SessionCostDetailView.as_view(), name="receipt_detail"),
    path("receipts/<int:pk>/refund/", views.SessionCostRefundView.as_view(), name="receipt_refund"),
    path("assignments/", views.AssignmentListView.as_view(), name="assignment_list"),
    path("assignments/new/", views.AssignmentCreateView.as_view(), name="assignment_create"),
    path(
        "assignments/<int:pk>/delete/",
        views.AssignmentDeleteView.as_view(),
        name="assignment_delete",
    ),
    path("taxes/", views.TaxListView.as_view(), name="tax_list"),
    path("taxes/new/", views.TaxCreateView.as_view(), name="tax_create"),
    path("taxes/<int:pk>/edit/", views.TaxEditView.as_view(), name="tax_edit"),
    path("taxes/<int:pk>/delete/", views.TaxDeleteView.as_view(), name="tax_delete"),
    path("settings/", views.BillingProfileEditView.as_view(), name="profile_edit"),
    path("payouts/", views.PayoutListView.as_view(), name="payout_list"),
    path("payouts/preview/", views.PayoutPreviewView.as_view(), name="payout_preview"),
    path("payouts/run/", views.PayoutRunView.as_view(), name="payout_run"),
    path("payouts/<int:pk>/", views.PayoutDetailView.as_view(), name="payout_detail"),
    path(
        "payouts/<int:pk>/mark-sent/", views.PayoutMarkSentView.as_view(), name="payout_mark_sent"
    ),
    path(
        "payouts/<int:pk>/mark-paid/", views.PayoutMarkPaidView.as_view(), name="payout_mark_paid"
    ),
    path(
        "payouts/<int:pk>/bank-file/", views.PayoutBankFileView.as_view(), name="payout_bank_file"
    ),
    path(
        "payouts/<int:pk>/statement/", views.PayoutStatementView.as_view(), name="payout_statement"
    ),
]
