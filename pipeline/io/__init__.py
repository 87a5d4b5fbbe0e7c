"""Files in and out: decoding with size caps (``gate``), colour modes and EXIF (``modes``),
loading and saving images and masks (``images``), and checked model downloads (``download``)."""
