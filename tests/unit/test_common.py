import pytest
from google.rpc import code_pb2, error_details_pb2
from payloops.order.v1 import order_service_pb2
from payloops.webhook.v1 import webhook_service_pb2

from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.pagination import MAX_PAGE_SIZE, decode_token, encode_token, page_size
from services.common.text_guard import nul_paths, refuse_nul_characters


def test_invalid_argument_carries_error_info_and_bad_request() -> None:
    status = InvalidArgument(
        message="amount: bad", reason="AMOUNT_INVALID", violations=[FieldViolation("amount", "bad")]
    ).to_status()
    assert status.code == code_pb2.INVALID_ARGUMENT
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and info.reason == "AMOUNT_INVALID" and info.domain == "payloops.dev"
    assert status.details[1].Unpack(bad) and bad.field_violations[0].field == "amount"


def test_not_found_names_the_resource() -> None:
    status = NotFound(
        message="gone", reason="ORDER_NOT_FOUND", resource_type="order", resource_name="ord_1"
    ).to_status()
    resource = error_details_pb2.ResourceInfo()
    assert status.code == code_pb2.NOT_FOUND
    assert status.details[1].Unpack(resource) and resource.resource_name == "ord_1"


def test_not_found_of_a_resource_type_gives_its_reason_and_message() -> None:
    error = NotFound.of("checkout_session", "cs_1")
    assert (error.reason, error.message) == ("CHECKOUT_SESSION_NOT_FOUND", "checkout session 'cs_1' not found")
    assert (error.resource_type, error.resource_name) == ("checkout_session", "cs_1")


def test_page_size_defaults_and_caps() -> None:
    assert page_size(0) == 20
    assert page_size(7) == 7
    assert page_size(10_000) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        page_size(-1)


def test_page_tokens_round_trip_and_garbage_is_refused() -> None:
    assert decode_token("") is None
    assert decode_token(encode_token({"id": "ord_1", "t": "x"})) == {"id": "ord_1", "t": "x"}
    not_an_object = "WzEsMl0"  # base64 of the JSON list [1,2]
    for garbage in ["%%%", "bm90IGpzb24", not_an_object]:
        with pytest.raises(InvalidArgument) as caught:
            decode_token(garbage)
        assert caught.value.reason == "PAGE_TOKEN_INVALID"


def test_nul_characters_are_found_in_every_kind_of_string_field() -> None:
    request = order_service_pb2.CreateOrderRequest(currency="USD", description="a\x00b")
    request.metadata["k\x00"] = "v"
    request.metadata["x"] = "y\x00"
    assert sorted(nul_paths(request)) == ["description", "metadata key", "metadata['x']"]
    refuse_nul_characters(order_service_pb2.CreateOrderRequest(currency="USD", description="fine"))
    # Bytes may hold anything: a processor's raw webhook body is not text.
    refuse_nul_characters(
        webhook_service_pb2.ReceiveProcessorWebhookRequest(merchant_id="mer_1", raw={"data": b"\x00"})
    )
    with pytest.raises(InvalidArgument) as refused:
        refuse_nul_characters(request)
    assert refused.value.reason == "REQUEST_INVALID_CHARACTERS"
    assert sorted(v.field for v in refused.value.violations) == ["description", "metadata key", "metadata['x']"]
