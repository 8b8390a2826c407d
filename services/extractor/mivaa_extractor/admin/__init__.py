"""AdminService: job statistics and retries, queues, health and usage (admin scope at the gateway)."""
