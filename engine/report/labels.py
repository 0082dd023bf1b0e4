"""Who acts, in words: the contact labels every report and the terminal use."""

from __future__ import annotations

CONTACTS = {
    "network_admin": "your system or network administrator (on premises, or the team that runs your own cloud account)",
    "cloud_support": "the support of the vendor-managed cloud that hosts the application (Pega Cloud: Pega Support)",
    "email_provider": "the email provider (the SMTP service or the mail team)",
    "application_admin": "the administrator of the sending application and its queues",
    "self": "you (the person running mailtriage)",
}
CONTACTS_SHORT = {
    "network_admin": "network admin",
    "cloud_support": "cloud support",
    "email_provider": "email provider",
    "application_admin": "application admin",
    "self": "you",
}
