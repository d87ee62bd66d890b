"""PayLoops for Python: the merchant SDK (re-exported here from `payloops.sdk`, whose
`__all__` is the one list of public names) and, for internal services, the generated
gRPC stubs in `payloops.<service>.v1`. Nothing here imports grpc or protobuf."""

from payloops.sdk import *  # noqa: F403
from payloops.sdk import __all__ as __all__
