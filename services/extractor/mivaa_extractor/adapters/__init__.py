"""Adapters that implement the ports (`mivaa_extractor.ports`) against the peer services and NATS."""
