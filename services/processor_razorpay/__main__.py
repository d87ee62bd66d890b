"""python -m services.processor_razorpay"""

from services.processor_common.service import main
from services.processor_razorpay.config import Settings
from services.processor_razorpay.plugin import RazorpayPlugin

if __name__ == "__main__":
    main("processor_razorpay", Settings, RazorpayPlugin.from_settings)
