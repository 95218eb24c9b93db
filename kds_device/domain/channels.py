"""Names for Deliverect's ordering-channel ids (the ``channel`` of an order), so a tile says
"iFood", not "channel 39", before anyone configures anything. ``[display.channels]`` in the
device config overrides or adds names.

Source: Deliverect's public list of integrated channels,
https://developers.deliverect.com/page/get-integrated-channels (name and channelId columns;
read 2026-11), and for id 1, https://developers.deliverect.com/docs/how-do-i-know-which-channel-an-order-comes-from
("1 is Deliverect"). Only ids read there are listed; Deliverect's live list
(``GET /allChannels``) is longer and grows, so a site adds its own in the config.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_CHANNEL_NAMES: Mapping[int, str] = {
    1: "Deliverect",
    25: "Rappi",
    39: "iFood",
    101: "Yelp",
    102: "Thuisbezorgd",
    105: "Just Eat Last Mile",
    6005: "foodpanda Retail",
    6040: "HungerStation Retail",
    10003: "Slerp",
    10004: "Mr Noow",
    10005: "Pret Commercetools",
    10008: "Vegafoodies",
    10013: "Ordeo",
    10017: "ClickEat",
    10026: "DCG",
    10028: "Napoli Gang App",
    10029: "Menuu",
    10042: "MobileMenu",
    10046: "MyOrders",
    10053: "My Lemonade",
    10069: "Sitback",
    10075: "Enable Tech",
    10076: "Onship",
    10082: "Sayl Resto",
    10085: "Preoday",
    10090: "Pepper HQ",
    10098: "See You Food",
    10103: "Room Service",
    10104: "Ring n Bring",
    10113: "Empay",
    10131: "Sacré Armand",
    10140: "Favourite Table",
    10142: "My Pizza Shop",
    10160: "eMenu Now",
    10161: "Bbot",
    10162: "Rafeeq",
    10164: "Smilein",
    10165: "Tabesto",
    10172: "Crunch",
    10176: "MenuDelite",
    10194: "Interdelivery Soluciones",
    10204: "SplitApp",
    10207: "HeapsGo",
    10211: "The BTE Network",
    10215: "OrderUp",
    10218: "ZenOrder",
    10220: "Craveable",
    10223: "YallaNow",
    10236: "Forevermore",
    10240: "TikTok",
    10243: "Beets & Roots",
    10253: "MyEatPal",
    10257: "Gireeb",
    10260: "ChatMyOrder",
    10265: "OpenTable",
    10280: "Food Ninjas",
    10281: "TableService",
    10286: "HiMenus",
    10287: "Foodhub",
    10289: "OnlineOrdering",
    10297: "Komdab",
    10298: "EasyTake",
    10300: "Whistler Dine In",
    10310: "Click & Collect",
    10343: "Snoonu",
    10351: "Wulooj",
    10353: "Pattern",
    10355: "Cata",
    10357: "Golyv",
    10360: "Locate",
    10362: "Virnika",
    12010: "Certus",
}


def channel_name(channel: int | None, names: Mapping[int, str]) -> str:
    """What a tile says for ``channel``: its name, else ``channel N`` (never nothing)."""
    if channel is None:
        return ""
    return names.get(channel) or DEFAULT_CHANNEL_NAMES.get(channel) or f"channel {channel}"
