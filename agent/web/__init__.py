"""`facetory review DIR --web` and `facetory serve DIR`: the plan, its cost and samples in a
browser before anything is generated; live progress and a curatable gallery while it builds.

A small server-side-rendered Starlette app served by uvicorn on 127.0.0.1 and a free port.
Every asset ships in this package (templates/, static/); nothing is fetched from a network.
"""
