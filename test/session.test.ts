// An interactive terminal keeps its state between commands: `ip netns exec
// NS bash` enters the namespace until `exit`, and `$?` carries over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLab, parseWorld } from '../server/sim/world-file';

const spec = parseWorld(JSON.parse(readFileSync(join(import.meta.dirname, '../server/templates/classroom.json'), 'utf8')));

describe('interactive sessions', () => {
  it('enter a namespace with ip netns exec NS bash and leave it with exit', () => {
    const lab = buildLab(spec);
    const session = lab.newSession('hostA');
    const run = (line: string) => lab.run('hostA', line, { session, interactive: true });
    expect(run('ip netns add red').exitCode).toBe(0);
    expect(run('ip netns exec red bash')).toMatchObject({ output: '', exitCode: 0 });
    expect(run('ip netns identify').output).toBe('red\n');
    expect(run('ip -br link').output).toBe('lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n');
    expect(run('exit')).toMatchObject({ output: '', exitCode: 0 });
    expect(run('ip netns identify').output).toBe('\n');
    expect(run('ip -br link show lo').output).toBe('lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP> \n');
  });

  it('a nested bash lasts until exit; a child shell\'s exit ends only the child', () => {
    const lab = buildLab(spec);
    const session = lab.newSession('hostA');
    const run = (line: string) => lab.run('hostA', line, { session, interactive: true });
    run('ip netns add red');
    run('ip netns exec red bash');
    expect(run('bash')).toMatchObject({ output: '', exitCode: 0 });
    expect(run('X=inner; exit 4')).toMatchObject({ output: '', exitCode: 4 });
    // Out of the nested bash, still in red.
    expect(run('ip netns identify').output).toBe('red\n');
    expect(run('bash -c "exit 3"; echo $? $X')).toMatchObject({ output: '3\n', exitCode: 0 });
    expect(run('ip netns identify').output).toBe('red\n');
    expect(run('exit').exitCode).toBe(0);
    expect(run('ip netns identify').output).toBe('\n');
  });

  it('stops a loop or a piped script that goes on while no simulated time passes, so the lab is not held', () => {
    const lab = buildLab(spec);
    expect(lab.run('hostA', 'while true; do :; done')).toMatchObject({ output: 'nslab: loop stopped after 10000 iterations in which no time passed\n', exitCode: 1 });
    expect(lab.run('hostA', 'for i in $(seq 20000); do :; done; echo $i')).toMatchObject({ output: 'nslab: loop stopped after 10000 iterations in which no time passed\n10000\n', exitCode: 0 });
    expect(lab.run('hostA', "seq 20000 | sed 's/.*/true/' | bash; echo $?")).toMatchObject({ output: 'nslab: script stopped after 10000 iterations in which no time passed\n1\n', exitCode: 0 });
    // Time passing resets the count.
    expect(lab.run('hostA', 'for i in 1 2 3; do sleep 1; done; echo $i')).toMatchObject({ output: '3\n', exitCode: 0 });
  });

  it('keeps $? and variables between lines, but a fresh bash -c does not', () => {
    const lab = buildLab(spec);
    const session = lab.newSession('hostA');
    lab.run('hostA', 'ip link show nosuch', { session, interactive: true });
    expect(lab.run('hostA', 'echo $?', { session, interactive: true }).output).toBe('1\n');
    lab.run('hostA', 'NS=blue', { session, interactive: true });
    expect(lab.run('hostA', 'echo $NS', { session, interactive: true }).output).toBe('blue\n');
    expect(lab.run('hostA', 'echo $NS $?').output).toBe('0\n');
  });

  it('streams a ping without a count until it is interrupted', () => {
    const lab = buildLab(spec);
    const chunks: string[] = [];
    const cmd = lab.start('hostA', 'ping 192.168.1.3', { onOutput: (t) => chunks.push(t) });
    cmd.advanceTo(lab.world.now + 2_500_000);
    expect(chunks.filter((c) => c.startsWith('64 bytes')).length).toBe(3);
    expect(cmd.done).toBeNull();
    cmd.interrupt();
    const result = cmd.done ?? cmd.advanceTo(lab.world.now);
    expect(result?.exitCode).toBe(0);
    expect(result?.output).toMatch(/\n--- 192\.168\.1\.3 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 20\d\dms\nrtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/);
  });
});
