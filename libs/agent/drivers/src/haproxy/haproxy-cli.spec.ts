import { configFrontends, parseShowProc, parseShowStat } from './haproxy-cli';
import { haproxyHealth } from './haproxy-health';

const SHOW_PROC = `#<PID>          <type>          <reloads>       <uptime>        <version>
13119           master          2 [failed: 1]   0d00h00m06s     2.6.12-1+deb12u4
# workers
13131           worker          0               0d00h00m05s     2.6.12-1+deb12u4
# old workers
13122           worker          1               0d00h00m09s     2.6.12-1+deb12u4
# programs
`;

const STAT_HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status';
function row(px: string, sv: string, status: string, check = ''): string {
  const f = Array(37).fill('');
  f[0] = px;
  f[1] = sv;
  f[17] = status;
  f[36] = check;
  return f.join(',');
}

describe('haproxy CLI parsing', () => {
  it('reads master reload counts and the current and old workers from show proc', () => {
    expect(parseShowProc(SHOW_PROC)).toEqual({
      master: { pid: 13119, reloads: 2, failedReloads: 1 },
      workers: [
        { pid: 13131, reloads: 0 },
        { pid: 13122, reloads: 1 },
      ],
    });
  });

  it('finds frontend and listen sections of a configuration', () => {
    expect(configFrontends('global\nfrontend api\n  bind :80\nbackend app\nlisten keystone\n  bind :5000\n')).toEqual(['api', 'keystone']);
  });

  it('reports OK when every frontend is open and every checked server is up', () => {
    const rows = parseShowStat([STAT_HEADER, row('api', 'FRONTEND', 'OPEN'), row('app', 's1', 'UP', 'L7OK'), row('app', 'BACKEND', 'UP')].join('\n'));
    expect(haproxyHealth(rows)).toMatchObject({ state: 'COMPONENT_OK', summary: '1 frontends open, 1 backends up' });
  });

  it('reports DEGRADED naming the down server and the down backend', () => {
    const rows = parseShowStat(
      [
        STAT_HEADER,
        row('api', 'FRONTEND', 'OPEN'),
        row('app', 's1', 'DOWN', 'L4CON'),
        row('app', 's2', 'UP', 'L7OK'),
        row('app', 'BACKEND', 'UP'),
        row('db', 'd1', 'DOWN', 'L4TOUT'),
        row('db', 'BACKEND', 'DOWN'),
        row('maint', 'm1', 'MAINT'),
        row('maint', 'BACKEND', 'UP'),
      ].join('\n'),
    );
    const health = haproxyHealth(rows);
    expect(health.state).toBe('COMPONENT_DEGRADED');
    expect(health.summary).toBe('backend app: s1 DOWN; backend db DOWN');
  });
});
