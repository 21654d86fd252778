"""`python -m genie_assets.shard`: run the shard program (see `genie_assets.shard.program`)."""

import sys

from genie_assets.shard.program import main

sys.exit(main())
