"""Writers: the only code that touches ``outputs/``. Every file is written atomically."""
