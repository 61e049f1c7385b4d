"""Pairing: pool-wide optimal, explainable matching of executives with junior mentors, outside
every reporting line.

``file`` reads the programmes; ``pool`` finds who is eligible; ``rules`` and ``score`` are the
hard and soft rules; ``solve`` keeps candidates and assigns exactly; ``plan`` explains the result;
``review`` keeps proposals as drafts an admin locks, rejects and approves; ``intake`` records
each side's themes.
"""
