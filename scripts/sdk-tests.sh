#!/usr/bin/env bash
# Runs the Temporal .NET SDK's own tests (the five core classes of tests/Temporalio.Tests) against src/DevServer.
#
#   scripts/sdk-tests.sh SDK_DOTNET_CHECKOUT [WORK_DIR] [CLASS...]
#
# SDK_DOTNET_CHECKOUT is a checkout of github.com/temporalio/sdk-dotnet (this script fetches nothing from GitHub).
# The tests are built OUTSIDE this repository (WORK_DIR, default /tmp/sdk-tests) against the Temporalio package
# version of Directory.Packages.props, not against the checkout's own src/ (that needs the Rust bridge). The test
# files are compiled unmodified; two runner pieces the SDK project takes from packages that NuGet here does not
# serve (xunit.console's Program and MartinCostello.Logging.XUnit's AddXUnit) are replaced by small stand-ins.
# Each class runs in its own `dotnet test`; a test that hangs past HANG_TIMEOUT (default 4m) is recorded as hung
# and the class is run again without it. Prints one line per failed or hung test and "N passed, N failed".
set -euo pipefail

if [ $# -lt 1 ] || [ ! -d "$1/tests/Temporalio.Tests" ]; then
  echo "usage: $0 SDK_DOTNET_CHECKOUT [WORK_DIR] [CLASS...]  (the checkout must contain tests/Temporalio.Tests)" >&2
  exit 2
fi
sdk=$(cd "$1" && pwd)
work=${2:-/tmp/sdk-tests}
shift $(( $# >= 2 ? 2 : 1 ))
classes=("$@")
if [ ${#classes[@]} -eq 0 ]; then
  classes=(Worker.WorkflowWorkerTests Worker.ActivityWorkerTests Client.WorkflowHandleTests Client.TemporalClientWorkflowTests Worker.WorkflowReplayerTests)
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
hang_timeout=${HANG_TIMEOUT:-4m}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '[sdk-tests] %s\n' "$*"; }

version=$(sed -n 's:.*<TemporalioVersion>\(.*\)</TemporalioVersion>.*:\1:p' "$repo/Directory.Packages.props")
tests="$sdk/tests/Temporalio.Tests"
mkdir -p "$work/project" "$work/results"
log "Temporalio $version, tests from $tests, work dir $work"

cat > "$work/project/Temporalio.Tests.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <IsPackable>false</IsPackable>
    <RootNamespace>Temporalio.Tests</RootNamespace>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
    <NoWarn>\$(NoWarn);CS0618;CS1591</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Temporalio" Version="$version" />
    <PackageReference Include="Microsoft.Extensions.Logging.Console" Version="10.0.0" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
    <PackageReference Include="xunit" Version="2.9.3" />
    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
    <PackageReference Include="Xunit.SkippableFact" Version="1.5.85" />
  </ItemGroup>
  <ItemGroup>
    <Compile Include="$tests/Worker/WorkflowWorkerTests.cs;$tests/Worker/ActivityWorkerTests.cs;$tests/Client/WorkflowHandleTests.cs;$tests/Client/TemporalClientWorkflowTests.cs;$tests/Worker/WorkflowReplayerTests.cs" />
    <Compile Include="$tests/TestBase.cs;$tests/WorkflowEnvironment.cs;$tests/WorkflowEnvironmentCollection.cs;$tests/WorkflowEnvironmentTestBase.cs;$tests/TestUtils.cs;$tests/AssertMore.cs;$tests/ConsoleWriter.cs;$tests/XunitExceptionInterceptor.cs;$tests/KitchenSinkWorkflow.cs;$tests/IKitchenSinkWorkflow.cs;$tests/CloudTestExclusionAttribute.cs;$tests/CloudTestExclusionDiscoverer.cs;$tests/CloudTestExclusionReason.cs;$tests/Converters/Base64PayloadCodec.cs;$tests/Worker/HeaderCallbackInterceptor.cs;$tests/Worker/ManualPollCompletionBridgeWorker.cs" />
  </ItemGroup>
</Project>
EOF

cat > "$work/project/RunnerStandIns.cs" <<'EOF'
// Stand-ins for runner pieces the SDK's test project takes from packages NuGet here does not serve.
namespace Temporalio.Tests
{
    public static class Program
    {
        internal static bool InProc => false;

        internal static bool Verbose => false;
    }
}

namespace Microsoft.Extensions.Logging
{
    using Xunit.Abstractions;

    public static class XUnitLoggingStandIn
    {
        public static ILoggingBuilder AddXUnit(this ILoggingBuilder builder, ITestOutputHelper output) =>
            builder.AddProvider(new Provider(output));

        private sealed class Provider(ITestOutputHelper output) : ILoggerProvider
        {
            public ILogger CreateLogger(string categoryName) => new Logger(output, categoryName);

            public void Dispose()
            {
            }
        }

        private sealed class NoScope : IDisposable
        {
            public static readonly NoScope Instance = new();

            public void Dispose()
            {
            }
        }

        private sealed class Logger(ITestOutputHelper output, string category) : ILogger
        {
            // Never null: the SDK disposes the scopes it opens around workflow and activity logs.
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => NoScope.Instance;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                try
                {
                    output.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)} {exception}");
                }
                catch (InvalidOperationException)
                {
                    // The test has finished; its output no longer takes lines.
                }
            }
        }
    }
}
EOF

log "build dev server and tests"
dotnet build "$repo/src/DevServer" -c Release --verbosity quiet
dotnet build "$work/project" -c Release --verbosity quiet

server_log="$work/results/devserver.log"
# The SDK's WorkflowEnvironment configures its own local server with limit.historyCount.suggestContinueAsNew=50
# (ContinueAsNewSuggestedHistoryCount); the dev server takes the same threshold as an option.
dotnet "$repo/src/DevServer/bin/Release/net10.0/AgentOrchestrator.DevServer.dll" --port 0 --suggest-continue-as-new-history-length 50 >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  target=$(sed -n 's/^listening on //p' "$server_log" | head -n 1)
  [ -n "$target" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$target" ] || { echo "dev server did not start" >&2; exit 1; }
log "dev server on $target"
export TEMPORAL_TEST_CLIENT_TARGET_HOST="$target" TEMPORAL_TEST_CLIENT_NAMESPACE=default

summary="$work/results/summary.txt"
: > "$summary"
for class in "${classes[@]}"; do
  # Tests already reported (by method) and hung tests are left out of the next run of the class.
  skip=()
  for attempt in 1 2 3 4 5 6 7 8; do
    filter="FullyQualifiedName~Temporalio.Tests.$class."
    for name in "${skip[@]}"; do
      filter="$filter&FullyQualifiedName!=$name"
    done
    out="$work/results/$class.$attempt.log"
    log "$class (run $attempt)"
    dotnet test "$work/project" -c Release --no-build --filter "$filter" \
      --blame-hang --blame-hang-dump-type none --blame-hang-timeout "$hang_timeout" \
      --logger "trx;LogFileName=$work/results/$class.$attempt.trx" --logger "console;verbosity=normal" >"$out" 2>&1 || true
    for outcome in Passed Failed Skipped; do
      grep -E "^\s+$outcome Temporalio\." "$out" | sed -E "s/^\s+$outcome /$(echo "$outcome" | tr a-z A-Z) /; s/ \[[^]]*\]\$//" >> "$summary" || true
    done
    # A hang aborts the run: the blame collector names the test that was running.
    hung=$(sed -n '/The test running when the crash occurred/,/This test may/p' "$out" | grep -oE 'Temporalio\.Tests\.[A-Za-z.]+\.[A-Za-z0-9_]+' | sort -u || true)
    if [ -z "$hung" ]; then
      break
    fi
    for h in $hung; do
      echo "HUNG $h" >> "$summary"
    done
    mapfile -t skip < <(grep -E "^(PASSED|FAILED|SKIPPED|HUNG) Temporalio\.Tests\.$class\." "$summary" | awk '{print $2}' | sed 's/(.*//' | sort -u)
  done
done

grep -E '^(FAILED|HUNG)' "$summary" || true
passed=$(grep -c '^PASSED' "$summary" || true)
failed=$(grep -cE '^(FAILED|HUNG)' "$summary" || true)
skipped=$(grep -c '^SKIPPED' "$summary" || true)
log "details: $work/results (per-class logs and trx, summary.txt, devserver.log)"
echo "$passed passed, $failed failed, $skipped skipped"
