"""Pure domain: the neutral types, the error hierarchy and the ports (Protocols).

Must not import anything else of gemgate's: everything else points inward at this package.
"""
