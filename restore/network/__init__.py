"""The restorer network: inference twin (`runtime`), chunk features, output vocabulary,
batching, candidate mask, and the network-alone restorer (`restorer`)."""
