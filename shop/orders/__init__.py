"""Orders: checkout without oversell, order states, shipments per cooperative."""
