"""Realistic Deliverect KDS payloads: orders, duplicates, cancels and product pushes.

The one source of realistic orders for the demo, the simulator, the tests' fixtures and the
benchmarks. Payloads follow the protocol notes (section 2.3, 7.2) and always parse.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kds_device.domain.timestamps import format_timestamp
from kds_device.sim.menu import CHANNELS, PRODUCTS, Modifier, Product

NAMES = (
    "Lena K.",
    "Tom B.",
    "Aisha M.",
    "Jonas V.",
    "Sofia R.",
    "Mohammed A.",
    "Chloé D.",
    "Priya S.",
    "Lukas W.",
    "Emma J.",
    "Noah P.",
    "Yuki T.",
    "Sara L.",
    "Omar H.",
    # names in other scripts: the board draws every script (and reads right to left)
    "דנה כ.",
    "فاطمة ع.",
    "さくら 山田",
    "Zoë 🎂",
)
NOTES = (
    "Please ring the bell twice",
    "No cutlery please",
    "Leave at the door",
    "ALLERGY: peanuts - please be careful",
    "Extra napkins",
    "Nut allergy in the family",
    "Birthday! Could you write Happy Birthday on the box?",
    "בלי בצל בבקשה",
    "ネギ抜きでお願いします",
    "Gluten intolerant",
)
REMARKS = (
    "Cut in half",
    "No garlic sauce",
    "Sauce on the side",
    "Extra crispy",
    "Allergy: sesame",
    "Well done",
    "No ice",
    "Dairy free please",
)
CANCEL_REASONS = (
    "Customer changed their mind",
    "Courier not found",
    "Store too busy",
    "Duplicate order",
)


class OrderGenerator:
    """Makes order payloads; ``seed`` makes a run repeatable."""

    def __init__(
        self,
        seed: int | None = None,
        location: str = "demo-location",
        account: str = "65f0c1a2b3c4d5e6f7a8b9c0",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.random = random.Random(seed)
        self.location = location
        self.account = account
        self.clock = clock
        self._count = 0

    def order(self, **overrides: Any) -> dict[str, Any]:
        """One new order (status 1). ``overrides`` replace top-level fields."""
        rnd = self.random
        self._count += 1
        now = self.clock()
        kind = rnd.choices([1, 2, 3, 4, 5], weights=[30, 45, 12, 7, 6])[0]
        brand_products = self._brand_products()
        items = [self._item(rnd.choice(brand_products)) for _ in range(self._item_count())]
        scheduled = rnd.random() < 0.08
        ready_in = rnd.randint(45, 120) if scheduled else rnd.randint(10, 25)
        pickup = now + timedelta(minutes=ready_in)
        channel = rnd.choice(list(CHANNELS))
        order_id = f"{rnd.getrandbits(96):024x}"
        display = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(5))
        payload: dict[str, Any] = {
            "orderId": order_id,
            "account": self.account,
            "location": self.location,
            "channelOrderId": f"{display}-{self._count:06d}",
            "channelOrderDisplayId": display,
            "posReceiptId": "",
            "orderType": kind,
            "channel": channel,
            "pickupTime": format_timestamp(pickup),
            "estimatedPickupTime": format_timestamp(pickup),
            "deliveryIsAsap": not scheduled,
            "note": rnd.choice(NOTES) if rnd.random() < 0.2 else "",
            "items": items,
            "packaging": {"includeCutlery": rnd.random() < 0.4},
            "brandId": f"brand-{brand_products[0].brand[:4].lower()}",
            "brandName": brand_products[0].brand,
            "remake": rnd.random() < 0.03,
            "customerName": rnd.choice(NAMES),
            "status": 1,
            "_created": format_timestamp(now),
        }
        if kind == 3:
            payload["table"] = str(rnd.randint(1, 24))
        if kind == 2:
            payload["deliveryTime"] = format_timestamp(pickup + timedelta(minutes=20))
        payload.update(overrides)
        return payload

    def cancel(self, order: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        """The reduced cancel body Deliverect sends for ``order`` (status 100)."""
        return {
            "orderId": order["orderId"],
            "account": order.get("account", self.account),
            "location": order.get("location", self.location),
            "channelOrderId": order.get("channelOrderId", ""),
            "channelOrderDisplayId": order.get("channelOrderDisplayId", ""),
            "posReceiptId": "",
            "reason": reason or self.random.choice(CANCEL_REASONS),
            "status": 100,
            "brandId": order.get("brandId", ""),
            "brandName": order.get("brandName", ""),
        }

    def products(self) -> list[dict[str, Any]]:
        """A product push body (a bare JSON array)."""
        return [
            {
                "plu": p.plu,
                "name": p.name,
                "description": "",
                "productType": 1,
                "productTags": list(p.tags),
                "imageUrl": "",
            }
            for p in PRODUCTS
        ]

    # ---- internals --------------------------------------------------------------------

    def _brand_products(self) -> list[Product]:
        brand = self.random.choice(sorted({p.brand for p in PRODUCTS}))
        return [p for p in PRODUCTS if p.brand == brand]

    def _item_count(self) -> int:
        return self.random.choices([1, 2, 3, 4, 5, 7, 10], weights=[22, 30, 22, 12, 7, 4, 3])[0]

    def _item(self, product: Product) -> dict[str, Any]:
        rnd = self.random
        subs = [self._modifier(m, with_children=True) for m in product.components]
        for group in product.groups:
            for modifier in rnd.sample(group, k=rnd.choice([0, 0, 1, 1, 2])):
                subs.append(self._modifier(modifier))
        item: dict[str, Any] = {
            "plu": product.plu,
            "name": product.name,
            "quantity": rnd.choices([1, 2, 3], weights=[75, 20, 5])[0],
            "price": rnd.randint(350, 1650),
            "productTags": list(product.tags),
            "subItems": subs,
        }
        if product.kitchen_name:
            item["kitchenName"] = product.kitchen_name
        if rnd.random() < 0.12:
            item["itemRemark"] = rnd.choice(REMARKS)
        return item

    def _modifier(self, modifier: Modifier, with_children: bool = False) -> dict[str, Any]:
        quantity = self.random.randint(1, modifier.max_qty)
        return {
            "plu": modifier.plu,
            "name": modifier.name,
            "quantity": quantity,
            "price": 0,
            "subItems": [self._modifier(s) for s in modifier.sub] if with_children else [],
        }
