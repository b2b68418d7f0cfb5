"""Mail: subscriptions, the outbox and SMTP (MAIL), and what the mails say (DIGEST).

- :mod:`.smtp`: the SMTP transport (``[mail]`` in the config file,
  ``PAPERRADAR_SMTP_URL``, ``PAPERRADAR_MAIL_FROM``), each failure read as
  temporary or permanent;
- :mod:`.outbox`: exactly-once delivery through the ``outbox`` table
  (pending → sending → sent or failed), retries, suspension, the rate limit;
- :mod:`.subscribers`: double opt-in, unsubscribing, and which digests are due;
- :mod:`.digest` and :mod:`.messages`: the digest and the account mails' content.

Nothing here imports the web or the CLI; both reach mail through these modules.
"""
