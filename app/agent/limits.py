"""Bounds on what one client may send: message size and request rate.

Rate limits are fixed windows counted in the shared cache (Redis, or process memory), per
API key when the request has one, else per client IP.
"""

from __future__ import annotations

import time

from app.core.cache import Cache
from app.core.errors import HelioError, InvalidInput


class MessageTooLarge(HelioError):
    code = "mensagem_grande_demais"
    status = 413


class RateLimited(HelioError):
    code = "limite_de_requisicoes"
    status = 429


def check_message(text: str, max_chars: int) -> None:
    if not text or not text.strip():
        raise InvalidInput("Mensagem vazia.", hint="Escreva sua pergunta em 'message'.")
    if len(text) > max_chars:
        raise MessageTooLarge(
            f"Mensagem com {len(text)} caracteres; o limite é {max_chars}.",
            hint="Resuma o pedido: consumo (kWh/mês ou conta em R$), cidade/UF e tipo de ligação bastam.",
            max_chars=max_chars,
        )


class RateLimiter:
    def __init__(self, cache: Cache, per_minute: int = 30, window_s: int = 60) -> None:
        self.cache = cache
        self.per_minute = per_minute
        self.window_s = window_s

    def hit(self, who: str) -> int:
        """Count one request for ``who`` ("key:<k>" or "ip:<addr>"); raise when over the limit."""
        window = int(time.time() // self.window_s)
        count = self.cache.incr(f"rl:{who}:{window}", self.window_s)
        if count > self.per_minute:
            raise RateLimited(
                f"Limite de {self.per_minute} mensagens por minuto atingido.",
                hint=f"Aguarde até {self.window_s} s e tente de novo.",
                retry_after_s=self.window_s,
            )
        return count
