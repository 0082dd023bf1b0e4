import subprocess
import sys


def test_experta_fails_to_import_on_this_python_without_the_shim():
    proc = subprocess.run([sys.executable, "-c", "import experta"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Mapping" in proc.stderr


def test_experta_imports_through_compat_and_runs_a_rule():
    code = (
        "from engine.decide.compat import KnowledgeEngine, Fact, Rule\n"
        "class E(KnowledgeEngine):\n"
        "    @Rule(Fact(x=1))\n"
        "    def r(self):\n"
        "        self.declare(Fact(y=2))\n"
        "e = E(); e.reset(); e.declare(Fact(x=1)); e.run()\n"
        "print(any(f.get('y') == 2 for f in e.facts.values()))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
