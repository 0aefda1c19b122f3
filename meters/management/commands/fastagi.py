"""`manage.py fastagi --host 127.0.0.1 --port 4573`: the phone line's FastAGI server for
Asterisk (meters/voice/fastagi.py). Runs until interrupted."""

from django.core.management.base import BaseCommand

from meters.voice.fastagi import FastAgiServer


class Command(BaseCommand):
    help = "Serve the automatic phone line for meter readings to Asterisk over FastAGI."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=4573)

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        with FastAgiServer(options["host"], options["port"]) as server:
            host, port = server.server_address[:2]
            self.stdout.write(f"FastAGI: agi://{host}:{port}/ (Ctrl-C to stop)")
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                self.stdout.write("FastAGI server stopped.")
