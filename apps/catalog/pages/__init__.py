"""The objects the /prices/ templates render: the price list and the model detail page.

Each page is built from ``selectors`` queries in a fixed number of queries; values stay
``Decimal`` and their text comes from ``apps.catalog.display`` and ``apps.common.display``.
"""
