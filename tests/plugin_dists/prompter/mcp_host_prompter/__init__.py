"""A prompt whose argument the host completes: what a reload must bring to servers built
before the plugin was there."""

from mcp_host import hookimpl

LANGUAGES = ("python", "perl", "rust", "ruby")


@hookimpl
def register_prompts(register):
    def review(language: str) -> str:
        """Ask for a code review in `language`."""
        return f"Review this {language} code."

    register(review)


@hookimpl
def register_completions(register):
    def languages(argument: str, value: str, context: dict[str, str]) -> list[str]:
        return [language for language in LANGUAGES if language.startswith(value)]

    register(languages, prompt="review")
