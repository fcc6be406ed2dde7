"""Forms of the Connect Data page (four panes) and the Accounts tab.

Forms only parse and validate input; writes happen in datacenter/services.py and
scheduler/services/, called from the views.
"""
