"""Users: accounts and their summaries (service) and GDPR erasure by crypto-shredding."""
