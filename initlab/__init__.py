"""initlab: how does the way I initialize weights change what my network does?"""

__version__ = "0.1.0"
