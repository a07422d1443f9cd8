"""Result files written into ``--out DIR``; this package only reads finished results."""
