"""vphb: Python client of the vphb server (virtual POWER PCI host bridge, sPAPR TCE IOMMU).

    from vphb import Client
    with Client.connect("unix:/run/user/1000/vphb.sock") as c:
        print(c.topology())
"""
from ._ops import ERRNOS, OPS, PAPR, PROTOCOL_VERSION
from .address import Address, default_socket_path, parse_address
from .client import Client, ServerFrame, decode_payload, encode_payload
from .errors import VphbError, errno_name
from .transport import ConnectError

__all__ = [
    "Address", "Client", "ConnectError", "ERRNOS", "OPS", "PAPR", "PROTOCOL_VERSION", "ServerFrame",
    "VphbError", "decode_payload", "default_socket_path", "encode_payload", "errno_name", "parse_address",
]
__version__ = "0.1.0"
