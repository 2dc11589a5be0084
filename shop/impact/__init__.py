"""What purchases did: organizations' reserved-share progress and the impact of their money, from the ledger."""
