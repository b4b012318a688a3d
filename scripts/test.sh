#!/usr/bin/env bash
# The project's one test command (README): prepares a fresh Debian machine, checks formatting, builds
# with warnings as errors and runs every test project, then prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*"; }

if ! command -v dotnet >/dev/null 2>&1; then
  echo "dotnet (the .NET 10 SDK) is required" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Services the tests need. Without Docker the broker is Debian's rabbitmq-server on loopback.
log "rabbitmq"
rabbitmq_uri=$(./scripts/ensure-rabbitmq.sh | tail -n 1)
if [ -n "$rabbitmq_uri" ]; then
  export RABBITMQ_URI="$rabbitmq_uri"
fi
log "chromium"
./scripts/ensure-chromium.sh
# Tenancy tests start their own redis-server processes (shared token budgets, policy store).
log "redis"
./scripts/ensure-redis.sh

log "restore"
dotnet restore AgentOrchestrator.sln --verbosity quiet

log "format check"
dotnet format AgentOrchestrator.sln --verify-no-changes --no-restore

log "build"
dotnet build AgentOrchestrator.sln --no-restore --configuration Release --verbosity quiet

log "test"
results=$(mktemp)
status=0
dotnet test AgentOrchestrator.sln --no-build --configuration Release --verbosity quiet --logger "console;verbosity=minimal" 2>&1 | tee "$results" || status=$?

# The packages (docs/packages.md) into artifacts/packages, then the sample built and tested from them alone: the
# proof that they are complete. The sample restores into its own folder (samples/nuget.config), emptied of our ids
# so a re-pack of the same version is used; everything else comes from the machine-wide cache.
log "pack"
rm -rf artifacts/packages
dotnet pack AgentOrchestrator.sln --no-build --configuration Release --verbosity quiet -p:WarnOnPackingNonPackableProject=false
version=$(dotnet msbuild src/Contracts/Contracts.csproj -getProperty:Version)
global_packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
log "sample (packages ${version})"
if ! grep -q ">${version}</AgentOrchestratorVersion>" samples/Directory.Build.props; then
  echo "samples/Directory.Build.props: set AgentOrchestratorVersion to ${version}, the version packed" >&2
  status=1
fi
rm -rf samples/.packages/agentorchestrator.*
dotnet test samples/HelloFlows.Tests --configuration Release --verbosity quiet --logger "console;verbosity=minimal" \
  -p:AgentOrchestratorVersion="$version" -p:RestoreFallbackFolders="$global_packages" 2>&1 | tee -a "$results" || status=$?

# dotnet test prints one summary per test project; add them up for a single closing line.
passed=$(grep -Eo 'Passed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$results" | awk '{s+=$2} END {print s+0}')
rm -f "$results"

# Every benchmark scenario at tiny sizes, so the harness keeps working; it measures nothing and asserts no speed.
log "bench smoke"
dotnet run --configuration Release --no-build --project bench/Bench -- all --smoke || status=$?

if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no tests ran" >&2
  status=1
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
