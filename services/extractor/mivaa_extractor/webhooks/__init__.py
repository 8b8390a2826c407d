"""Webhooks: tenants' subscriptions to job outcomes, checked targets, signed and retried POSTs.

Domain code (no grpc, no NATS): subscriptions (validation and limits), targets (which URLs and
addresses may be sent to), signing (HMAC-SHA256), http_post (one POST over asyncio streams to a
checked address) and delivery (attempts with exponential backoff). The KV store and the job event
consumer are in mivaa_extractor.adapters; the gRPC servicer in mivaa_extractor.api.
"""
