"""Platform-level roaming settings (wired from the environment in ``config/settings/base.py``):

* ``ROAMING_PUBLIC_BASE_URL``: the scheme and host partners reach a tenant at, when it is not
  ``PORTAL_URL_SCHEME://<tenant domain>`` (for example behind a separate API host); empty by
  default.
* ``ROAMING_ALLOW_PRIVATE_NETWORKS``: allow partner URLs on private or loopback addresses
  (tests, on-premises hubs); off by default so a tenant cannot probe the platform's network.
* ``ROAMING_RETRY_BASE_SECONDS``: back-off base of failed pushes (base × 4^(n-1); default 10).
* ``ROAMING_AUTHORIZE_TIMEOUT``: seconds to wait for an eMSP's real-time authorisation before
  the token's whitelist rule decides alone (default 3).
* ``ROAMING_PUSH_CONCURRENCY``: requests in flight at once to one partner while its outbox is
  drained (default 8; one object's pushes are still sent one at a time, in order).
* ``ROAMING_LOCAL_LIST_MAX``: at most this many partners' tokens go into a station's local list
  (default 500, the most recently updated; the others are authorised online).
"""
