"""accord.crosschain.messages: encodings the attester and relayer reuse."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.errors import MessageFormatError
from accord.crosschain.messages import (
    Message,
    batch_root,
    decode_interop_address,
    decode_sent_data,
    encode_interop_address,
    expiry_attribute,
    message_id,
    pack_signatures,
)

ADDR = "0x" + "ab" * 20


def test_interop_address_matches_openzeppelin_format_and_round_trips():
    assert encode_interop_address(1, ADDR) == bytes.fromhex("00010000010114") + bytes.fromhex(
        "ab" * 20)
    assert encode_interop_address(31337, ADDR)[4:7] == bytes([2, 0x7A, 0x69])
    for chain_id in (1, 255, 256, 31337001, 2**64):
        assert decode_interop_address(encode_interop_address(chain_id, ADDR))[0] == chain_id


@pytest.mark.parametrize("bad", [b"", b"\x00\x02\x00\x00\x01\x01\x00", b"\x00\x01\x00\x00\x00\x00",
                                 b"\x00\x01\x00\x00\x01\x01\x00",
                                 bytes.fromhex("00010000010114") + b"\x01" * 19])
def test_decode_interop_address_rejects_bad_encodings(bad):
    with pytest.raises(MessageFormatError):
        decode_interop_address(bad)


def test_message_id_rejects_out_of_range_fields():
    with pytest.raises(MessageFormatError):
        message_id(Message(1, ADDR, 2**64, ADDR, 2, ADDR, 0, b""))
    with pytest.raises(MessageFormatError):
        message_id(Message(1, "0x1234", 0, ADDR, 2, ADDR, 0, b""))


def test_batch_root_rejects_empty_and_bad_ids():
    with pytest.raises(MessageFormatError):
        batch_root([])
    with pytest.raises(MessageFormatError):
        batch_root([b"\x00" * 31])


def test_pack_signatures_sorts_and_rejects_duplicates_and_bad_lengths():
    low, high = "0x" + "01" * 20, "0x" + "02" * 20
    assert pack_signatures([(high, b"\x02" * 65), (low, b"\x01" * 65)]) == \
        b"\x01" * 65 + b"\x02" * 65
    with pytest.raises(MessageFormatError):
        pack_signatures([(low, b"\x01" * 65), (low, b"\x01" * 65)])
    with pytest.raises(MessageFormatError):
        pack_signatures([(low, b"\x01" * 64)])


def test_expiry_attribute_layout():
    attr = expiry_attribute(5)
    assert len(attr) == 36 and attr[-1] == 5


def test_accord_interop_format_is_byte_equal_to_openzeppelin(project, accounts):
    harness = project.InteropHarness.deploy(sender=accounts[0])
    for chain_id in (0, 1, 255, 256, 31337, 31337001, 2**64 - 1, 2**200 + 7, 2**256 - 1):
        ours, oz = harness.both(chain_id, ADDR)
        assert bytes(ours) == bytes(oz) == encode_interop_address(chain_id, ADDR)


def test_accord_interop_parse_agrees_with_openzeppelin_and_rejects_trailing_bytes(project,
                                                                                  accounts):
    harness = project.InteropHarness.deploy(sender=accounts[0])
    for chain_id in (0, 1, 255, 256, 31337, 2**64 - 1, 2**256 - 1):
        data = encode_interop_address(chain_id, ADDR)
        ok, cid, addr = harness.parse(data)
        assert (ok, cid, addr.lower()) == (True, chain_id, ADDR)
        assert tuple(harness.parse(data)) == tuple(harness.parseOz(data))
        assert not harness.parse(data + b"\x00")[0]  # OpenZeppelin would ignore the extra byte
    for bad in (b"", b"\x00\x01\x00\x00", bytes.fromhex("000100000014") + b"\xab" * 20,
                bytes.fromhex("00010000010100") , bytes.fromhex("0001000101010114") + b"\xab" * 20,
                bytes.fromhex("00010000010113") + b"\xab" * 19,
                bytes.fromhex("00020000010114") + b"\xab" * 20):
        assert not harness.parse(bad)[0]


def test_expiry_from_attributes_reads_expiry_and_rejects_unknown():
    from accord.crosschain.messages import expiry_from_attributes
    assert expiry_from_attributes([]) == 0
    assert expiry_from_attributes([expiry_attribute(77)]) == 77
    with pytest.raises(MessageFormatError):
        expiry_from_attributes([b"\x01\x02\x03\x04" + b"\x00" * 32])
    with pytest.raises(MessageFormatError):
        expiry_from_attributes([expiry_attribute(77)[:-1]])


_SENT = ["bytes", "bytes", "bytes", "uint256", "bytes[]"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=70), st.binary(max_size=70), st.binary(max_size=300),
       st.integers(0, 2**256 - 1), st.lists(st.binary(max_size=40), max_size=4))
def test_decode_sent_data_agrees_with_eth_abi(sender, recipient, payload, value, attributes):
    data = abi_encode(_SENT, [sender, recipient, payload, value, attributes])
    assert decode_sent_data(data) == (sender, recipient, payload, value, attributes)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_decode_sent_data_fails_only_with_a_message_format_error_on_garbage(data):
    try:
        decode_sent_data(data)
    except MessageFormatError:
        pass


def _sent(attributes: list[bytes]) -> bytes:
    return abi_encode(_SENT, [b"s", b"r", b"payload", 0, attributes])


@pytest.mark.parametrize("corrupt", [
    lambda d: d[:-29],  # truncated inside the last attribute (28 bytes are padding)
    lambda d: d[:100],  # truncated inside the head
    lambda d: (2**255).to_bytes(32, "big") + d[32:],  # sender's offset far past the end
    lambda d: d[:128] + (len(d)).to_bytes(32, "big") + d[160:],  # attributes past the end
    lambda d: d[:_array(d)] + (2**64).to_bytes(32, "big") + d[_array(d) + 32:],  # huge count
], ids=["truncated-tail", "truncated-head", "offset-past-end", "array-past-end", "huge-count"])
def test_decode_sent_data_rejects_lengths_and_offsets_past_the_end(corrupt):
    with pytest.raises(MessageFormatError):
        decode_sent_data(corrupt(_sent([b"\x01" * 36])))


def _array(data: bytes) -> int:
    return int.from_bytes(data[128:160], "big")
