"""Certification of poverty-relief products (扶贫产品认定): the audit workflow lives here (next issue).

It may use the shop's foundations (database extension, accounts, access rules), never its commerce.
"""
