"""python -m services.processor_stripe"""

from services.processor_common.service import main
from services.processor_stripe.config import Settings
from services.processor_stripe.plugin import StripePlugin

if __name__ == "__main__":
    main("processor_stripe", Settings, StripePlugin.from_settings)
