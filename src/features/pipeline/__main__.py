"""``python -m features.pipeline``: run the lab end to end (see ``features.pipeline.runner``)."""

import sys

from features.pipeline.runner import main

sys.exit(main())
