<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AlarmStates</name>
    <message>
        <source>unack active</source>
        <translation>未确认·报警中</translation>
    </message>
    <message>
        <source>ack active</source>
        <translation>已确认·报警中</translation>
    </message>
    <message>
        <source>unack rtn</source>
        <translation>未确认·已恢复</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>shelved</source>
        <translation>已搁置</translation>
    </message>
    <message>
        <source>suppressed</source>
        <translation>已抑制</translation>
    </message>
    <message>
        <source>out of service</source>
        <translation>已停用</translation>
    </message>
</context>
<context>
    <name>Causes</name>
    <message>
        <source>Gas</source>
        <translation>有害气体</translation>
    </message>
    <message>
        <source>Smoke and fire</source>
        <translation>烟雾火情</translation>
    </message>
    <message>
        <source>Water</source>
        <translation>水浸与给排水</translation>
    </message>
    <message>
        <source>Elevator</source>
        <translation>电梯</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>供配电</translation>
    </message>
    <message>
        <source>Lost data</source>
        <translation>数据中断</translation>
    </message>
    <message>
        <source>Equipment</source>
        <translation>设备故障</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>环境</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>治安安防</translation>
    </message>
</context>
<context>
    <name>CommandPanel</name>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source> · {count} devices</source>
        <translation> · {count} 个设备</translation>
    </message>
    <message>
        <source>{party} answers within {minutes} min</source>
        <translation>由{party}处置，时限 {minutes} 分钟</translation>
    </message>
    <message>
        <source>no {party} unit can be proposed: dispatch by hand</source>
        <translation>暂无可建议派遣的{party}处置力量：请人工派单</translation>
    </message>
    <message>
        <source>{party} — closed</source>
        <translation>{party} — 已办结</translation>
    </message>
    <message>
        <source>→ {party}: propose {units}</source>
        <translation>→ {party}：建议派遣 {units}</translation>
    </message>
    <message>
        <source>no unit free</source>
        <translation>暂无空闲处置力量</translation>
    </message>
    <message>
        <source> (limit {limit})</source>
        <translation>（限值 {limit}）</translation>
    </message>
</context>
<context>
    <name>DeviceStates</name>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>stale</source>
        <translation>数据过期</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>alarm</source>
        <translation>报警</translation>
    </message>
</context>
<context>
    <name>DispatchDock</name>
    <message>
        <source>Dispatch</source>
        <translation>派单调度</translation>
    </message>
    <message>
        <source>Due in</source>
        <translation>剩余时限</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Units</source>
        <translation>处置力量</translation>
    </message>
    <message>
        <source>Party</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>En route</source>
        <translation>赶往现场</translation>
    </message>
    <message>
        <source>On scene</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>Done…</source>
        <translation>处置完毕…</translation>
    </message>
    <message>
        <source>⚠ OVERDUE </source>
        <translation>⚠ 已超时 </translation>
    </message>
    <message>
        <source>Unit result</source>
        <translation>处置结果</translation>
    </message>
    <message>
        <source>What did the unit find and do?</source>
        <translation>处置力量在现场发现了什么、做了什么？</translation>
    </message>
    <message>
        <source>KPIs (incidents, last 7 days): {incidents} incidents/h · {alarms} alarms/h · time to acknowledge {mtta} · to dispatch {mttd} · to close {mttc} (yardstick {yardstick}) · closed within deadline {within} · residents&apos; requests resolved {requests}</source>
        <translation>考核指标（事件，近7天）：每小时事件 {incidents} 起 · 每小时报警 {alarms} 条 · 平均确认时长 {mtta} · 平均派单时长 {mttd} · 平均处置时长 {mttc}（标准 {yardstick}）· 按时办结率 {within} · 居民诉求解决率 {requests}</translation>
    </message>
</context>
<context>
    <name>ElementTreeModel</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
</context>
<context>
    <name>Events</name>
    <message>
        <source>Fall detected</source>
        <translation>人员跌倒</translation>
    </message>
    <message>
        <source>Object thrown from height</source>
        <translation>高空抛物</translation>
    </message>
    <message>
        <source>Garbage exposed</source>
        <translation>垃圾暴露</translation>
    </message>
    <message>
        <source>Fire lane blocked</source>
        <translation>消防通道堵塞</translation>
    </message>
    <message>
        <source>Resident request</source>
        <translation>居民诉求</translation>
    </message>
    <message>
        <source>Grid staff report</source>
        <translation>网格员上报</translation>
    </message>
    <message>
        <source>Fire detected</source>
        <translation>发现明火</translation>
    </message>
    <message>
        <source>Smoke detected</source>
        <translation>发现烟雾</translation>
    </message>
    <message>
        <source>Person trapped in elevator</source>
        <translation>电梯困人</translation>
    </message>
    <message>
        <source>Intrusion</source>
        <translation>非法闯入</translation>
    </message>
</context>
<context>
    <name>IncidentDetail</name>
    <message>
        <source>acknowledged</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>cleared</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>办结</translation>
    </message>
    <message>
        <source>linked action</source>
        <translation>联动</translation>
    </message>
    <message>
        <source>comment</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>event</source>
        <translation>事件上报</translation>
    </message>
    <message>
        <source>order</source>
        <translation>派单</translation>
    </message>
    <message>
        <source>result</source>
        <translation>处置结果</translation>
    </message>
    <message>
        <source>shelved</source>
        <translation>搁置</translation>
    </message>
    <message>
        <source>state</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>confirmed</source>
        <translation>执行确认</translation>
    </message>
    <message>
        <source>not confirmed</source>
        <translation>执行未确认</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>recall</source>
        <translation>迫降</translation>
    </message>
    <message>
        <source>… sent, waiting for the actuator</source>
        <translation>… 已下发，等待执行设备回复</translation>
    </message>
    <message>
        <source>✔ confirmed</source>
        <translation>✔ 已确认执行</translation>
    </message>
    <message>
        <source>✘ NOT confirmed</source>
        <translation>✘ 未确认执行</translation>
    </message>
</context>
<context>
    <name>IncidentDetailDock</name>
    <message>
        <source>Incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Select an incident</source>
        <translation>请选择一个事件</translation>
    </message>
    <message>
        <source>This incident&apos;s payload cannot be shown whole ({error}).</source>
        <translation>该事件数据无法完整显示（{error}）。</translation>
    </message>
    <message>
        <source>Responsible:</source>
        <translation>责任方：</translation>
    </message>
    <message>
        <source>Proposed:</source>
        <translation>建议派遣：</translation>
    </message>
    <message>
        <source>Result:</source>
        <translation>处置结果：</translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>上报内容</translation>
    </message>
    <message>
        <source>Linked actions</source>
        <translation>联动控制</translation>
    </message>
    <message>
        <source>Actuator</source>
        <translation>执行设备</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>指令</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Actuator now</source>
        <translation>设备当前状态</translation>
    </message>
    <message>
        <source>Devices in alarm</source>
        <translation>报警设备</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Last published</source>
        <translation>上报值</translation>
    </message>
    <message>
        <source>Now</source>
        <translation>当前值</translation>
    </message>
    <message>
        <source>Cameras covering the place</source>
        <translation>覆盖现场的摄像机</translation>
    </message>
    <message>
        <source>{count} unacknowledged</source>
        <translation>{count} 条未确认</translation>
    </message>
    <message>
        <source>{state} · {cause} · raised {time} · id {id}</source>
        <translation>{state} · {cause} · 发生于 {time} · 编号 {id}</translation>
    </message>
    <message>
        <source>Says</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>联系方式</translation>
    </message>
    <message>
        <source>Camera snapshot</source>
        <translation>摄像机抓拍</translation>
    </message>
    <message>
        <source>Reported by</source>
        <translation>上报人</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Gateway</source>
        <translation>网关</translation>
    </message>
    <message>
        <source>Blind detectors ({count})</source>
        <translation>失联探测器（{count}）</translation>
    </message>
    <message>
        <source>running / on</source>
        <translation>运行中 / 开启</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>recalled</source>
        <translation>已迫降</translation>
    </message>
    <message>
        <source>no report</source>
        <translation>无回报</translation>
    </message>
    <message>
        <source>Order {id}: closed</source>
        <translation>工单 {id}：已办结</translation>
    </message>
    <message>
        <source>Order {id} — {units}</source>
        <translation>工单 {id} — {units}</translation>
    </message>
    <message>
        <source>Timeline ({count} entry, newest first)</source>
        <translation>处置经过（{count} 条，最新在前）</translation>
    </message>
    <message>
        <source>Timeline ({count} entries, newest first)</source>
        <translation>处置经过（{count} 条，最新在前）</translation>
    </message>
    <message>
        <source>alarm high</source>
        <translation>报警上限</translation>
    </message>
    <message>
        <source>alarm low</source>
        <translation>报警下限</translation>
    </message>
    <message>
        <source>Trend: {kind} of {count} device(s) in alarm</source>
        <translation>趋势：{count} 个报警设备的{kind}</translation>
    </message>
</context>
<context>
    <name>IncidentDock</name>
    <message>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Filter: tower, storey, cause, party, state, priority…</source>
        <translation>筛选：楼栋、楼层、事件类别、责任方、状态、等级…</translation>
    </message>
    <message>
        <source>Show closed</source>
        <translation>显示已办结</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>等级</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Raised</source>
        <translation>发生时间</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>Responsible — due</source>
        <translation>责任方 — 时限</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>Acknowledge (A)</source>
        <translation>确认 (A)</translation>
    </message>
    <message>
        <source>Dispatch proposed (D)</source>
        <translation>按建议派单 (D)</translation>
    </message>
    <message>
        <source>Comment…</source>
        <translation>备注…</translation>
    </message>
    <message>
        <source>Shelve…</source>
        <translation>搁置…</translation>
    </message>
    <message>
        <source>Close incident…</source>
        <translation>办结事件…</translation>
    </message>
    <message>
        <source>Report…</source>
        <translation>事件报告…</translation>
    </message>
    <message>
        <source>Override…</source>
        <translation>手动干预…</translation>
    </message>
    <message>
        <source>Supervisors: command an actuator of the incident by hand (a linked action)</source>
        <translation>值班长：手动控制该事件的联动设备</translation>
    </message>
    <message>
        <source>Showing the {shown} most urgent of {count} incidents: filter to narrow</source>
        <translation>共 {count} 起事件，仅显示最紧急的 {shown} 起：请筛选缩小范围</translation>
    </message>
    <message>
        <source>New incidents in the last 10 min: {new} · alarms raised: {raised}</source>
        <translation>近10分钟新增事件：{new} 起 · 新增报警：{raised} 条</translation>
    </message>
    <message>
        <source>INCIDENT FLOOD: {new} new incidents in 10 minutes (EEMUA 191: 10 or more) — {raised} alarms behind them</source>
        <translation>事件泛滥：10分钟内新增 {new} 起事件（EEMUA 191：10起及以上）— 涉及报警 {raised} 条</translation>
    </message>
    <message>
        <source>{count} alarm</source>
        <translation>{count} 条报警</translation>
    </message>
    <message>
        <source>{count} alarms</source>
        <translation>{count} 条报警</translation>
    </message>
    <message>
        <source> · {count} unack</source>
        <translation> · {count} 条未确认</translation>
    </message>
    <message>
        <source>… and {count} more alarms</source>
        <translation>… 另有 {count} 条报警</translation>
    </message>
    <message>
        <source>Comment</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>Comment for the incident log:</source>
        <translation>写入事件记录的备注：</translation>
    </message>
    <message>
        <source>Shelve</source>
        <translation>搁置</translation>
    </message>
    <message>
        <source>Reason (required):</source>
        <translation>原因（必填）：</translation>
    </message>
    <message>
        <source>For how many minutes (at most 480)?</source>
        <translation>搁置多少分钟（最多480）？</translation>
    </message>
    <message>
        <source>Close incident</source>
        <translation>办结事件</translation>
    </message>
    <message>
        <source>Result (what was found and done):</source>
        <translation>处置结果（现场情况及处理措施）：</translation>
    </message>
    <message>
        <source>Override a linked action</source>
        <translation>手动干预联动控制</translation>
    </message>
    <message>
        <source>Actuator:</source>
        <translation>执行设备：</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>on</source>
        <translation>开</translation>
    </message>
    <message>
        <source>recall</source>
        <translation>迫降</translation>
    </message>
    <message>
        <source>Command:</source>
        <translation>指令：</translation>
    </message>
</context>
<context>
    <name>Kinds</name>
    <message>
        <source>CO</source>
        <translation>一氧化碳</translation>
    </message>
    <message>
        <source>CO2</source>
        <translation>二氧化碳</translation>
    </message>
    <message>
        <source>CH4</source>
        <translation>甲烷</translation>
    </message>
    <message>
        <source>H2S</source>
        <translation>硫化氢</translation>
    </message>
    <message>
        <source>NH3</source>
        <translation>氨气</translation>
    </message>
    <message>
        <source>O2</source>
        <translation>氧气</translation>
    </message>
    <message>
        <source>PM2.5</source>
        <translation>PM2.5</translation>
    </message>
    <message>
        <source>PM10</source>
        <translation>PM10</translation>
    </message>
    <message>
        <source>TVOC</source>
        <translation>TVOC</translation>
    </message>
    <message>
        <source>Smoke</source>
        <translation>烟感</translation>
    </message>
    <message>
        <source>Gas leak</source>
        <translation>燃气泄漏</translation>
    </message>
    <message>
        <source>Water leak</source>
        <translation>水浸</translation>
    </message>
    <message>
        <source>Elevator</source>
        <translation>电梯</translation>
    </message>
    <message>
        <source>Fan</source>
        <translation>风机</translation>
    </message>
    <message>
        <source>Pump</source>
        <translation>水泵</translation>
    </message>
    <message>
        <source>Gateway</source>
        <translation>网关</translation>
    </message>
    <message>
        <source>Heat detector</source>
        <translation>感温探测器</translation>
    </message>
    <message>
        <source>Flame detector</source>
        <translation>火焰探测器</translation>
    </message>
    <message>
        <source>Manual call point</source>
        <translation>手动报警按钮</translation>
    </message>
    <message>
        <source>Water level</source>
        <translation>水位</translation>
    </message>
    <message>
        <source>Water pressure</source>
        <translation>水压</translation>
    </message>
    <message>
        <source>Elevator alarm button</source>
        <translation>电梯紧急呼叫按钮</translation>
    </message>
    <message>
        <source>Panic button</source>
        <translation>紧急求助按钮</translation>
    </message>
    <message>
        <source>Door forced</source>
        <translation>门被强行打开</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Humidity</source>
        <translation>湿度</translation>
    </message>
    <message>
        <source>Formaldehyde</source>
        <translation>甲醛</translation>
    </message>
    <message>
        <source>Noise</source>
        <translation>噪声</translation>
    </message>
    <message>
        <source>Illuminance</source>
        <translation>照度</translation>
    </message>
    <message>
        <source>Water flow</source>
        <translation>水流量</translation>
    </message>
    <message>
        <source>Water meter</source>
        <translation>水表</translation>
    </message>
    <message>
        <source>Hot water temperature</source>
        <translation>热水温度</translation>
    </message>
    <message>
        <source>Gas meter</source>
        <translation>燃气表</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>功率</translation>
    </message>
    <message>
        <source>Energy</source>
        <translation>用电量</translation>
    </message>
    <message>
        <source>Voltage</source>
        <translation>电压</translation>
    </message>
    <message>
        <source>Current</source>
        <translation>电流</translation>
    </message>
    <message>
        <source>Power factor</source>
        <translation>功率因数</translation>
    </message>
    <message>
        <source>Door contact</source>
        <translation>门磁</translation>
    </message>
    <message>
        <source>Window contact</source>
        <translation>窗磁</translation>
    </message>
    <message>
        <source>Motion</source>
        <translation>人体感应</translation>
    </message>
    <message>
        <source>Occupancy</source>
        <translation>人员占用</translation>
    </message>
    <message>
        <source>Door</source>
        <translation>门</translation>
    </message>
    <message>
        <source>Access card</source>
        <translation>门禁刷卡</translation>
    </message>
    <message>
        <source>Glass break</source>
        <translation>玻璃破碎</translation>
    </message>
    <message>
        <source>Parking occupancy</source>
        <translation>车位占用</translation>
    </message>
    <message>
        <source>EV charger power</source>
        <translation>充电桩功率</translation>
    </message>
    <message>
        <source>EV charger state</source>
        <translation>充电桩状态</translation>
    </message>
    <message>
        <source>Elevator floor</source>
        <translation>电梯所在楼层</translation>
    </message>
    <message>
        <source>Elevator door</source>
        <translation>电梯门</translation>
    </message>
    <message>
        <source>Elevator load</source>
        <translation>电梯载重</translation>
    </message>
    <message>
        <source>Elevator speed</source>
        <translation>电梯运行速度</translation>
    </message>
    <message>
        <source>Elevator motor temp</source>
        <translation>电梯电机温度</translation>
    </message>
    <message>
        <source>Elevator vibration</source>
        <translation>电梯振动</translation>
    </message>
    <message>
        <source>Elevator trips</source>
        <translation>电梯运行次数</translation>
    </message>
    <message>
        <source>Fan current</source>
        <translation>风机电流</translation>
    </message>
    <message>
        <source>Fan vibration</source>
        <translation>风机振动</translation>
    </message>
    <message>
        <source>Fan bearing temp</source>
        <translation>风机轴承温度</translation>
    </message>
    <message>
        <source>Fan speed</source>
        <translation>风机转速</translation>
    </message>
    <message>
        <source>Fan runtime</source>
        <translation>风机运行时长</translation>
    </message>
    <message>
        <source>Pump current</source>
        <translation>水泵电流</translation>
    </message>
    <message>
        <source>Pump vibration</source>
        <translation>水泵振动</translation>
    </message>
    <message>
        <source>Pump bearing temp</source>
        <translation>水泵轴承温度</translation>
    </message>
    <message>
        <source>Pump outlet pressure</source>
        <translation>水泵出口压力</translation>
    </message>
    <message>
        <source>Pump inlet pressure</source>
        <translation>水泵进口压力</translation>
    </message>
    <message>
        <source>Pump flow</source>
        <translation>水泵流量</translation>
    </message>
    <message>
        <source>Pump runtime</source>
        <translation>水泵运行时长</translation>
    </message>
    <message>
        <source>Valve position</source>
        <translation>阀门开度</translation>
    </message>
    <message>
        <source>Damper position</source>
        <translation>风阀开度</translation>
    </message>
    <message>
        <source>Tank level</source>
        <translation>水箱液位</translation>
    </message>
    <message>
        <source>Tank temperature</source>
        <translation>水箱水温</translation>
    </message>
    <message>
        <source>Septic level</source>
        <translation>化粪池液位</translation>
    </message>
    <message>
        <source>Sewage level</source>
        <translation>污水井液位</translation>
    </message>
    <message>
        <source>Disinfection</source>
        <translation>消毒设备</translation>
    </message>
    <message>
        <source>Disinfectant level</source>
        <translation>消毒剂余量</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>摄像机</translation>
    </message>
    <message>
        <source>Camera people count</source>
        <translation>人流计数</translation>
    </message>
    <message>
        <source>Camera vehicle count</source>
        <translation>车流计数</translation>
    </message>
    <message>
        <source>Fire panel</source>
        <translation>火灾报警控制器</translation>
    </message>
    <message>
        <source>Fire sprinkler flow</source>
        <translation>喷淋水流指示</translation>
    </message>
    <message>
        <source>Fire hydrant pressure</source>
        <translation>消火栓水压</translation>
    </message>
    <message>
        <source>Hose reel pressure</source>
        <translation>消防卷盘水压</translation>
    </message>
    <message>
        <source>Fire door</source>
        <translation>防火门</translation>
    </message>
    <message>
        <source>Emergency light</source>
        <translation>应急照明</translation>
    </message>
    <message>
        <source>Exit sign</source>
        <translation>疏散指示标志</translation>
    </message>
    <message>
        <source>UPS battery</source>
        <translation>UPS电池</translation>
    </message>
    <message>
        <source>UPS load</source>
        <translation>UPS负载</translation>
    </message>
    <message>
        <source>Transformer temp</source>
        <translation>变压器温度</translation>
    </message>
    <message>
        <source>Switchgear temp</source>
        <translation>开关柜温度</translation>
    </message>
    <message>
        <source>Generator state</source>
        <translation>发电机状态</translation>
    </message>
    <message>
        <source>Generator fuel</source>
        <translation>发电机油位</translation>
    </message>
    <message>
        <source>Lighting circuit</source>
        <translation>照明回路</translation>
    </message>
    <message>
        <source>Socket circuit</source>
        <translation>插座回路</translation>
    </message>
    <message>
        <source>Breaker trip</source>
        <translation>断路器跳闸</translation>
    </message>
    <message>
        <source>Earth leakage</source>
        <translation>漏电</translation>
    </message>
    <message>
        <source>Solar power</source>
        <translation>光伏发电功率</translation>
    </message>
    <message>
        <source>Rainwater level</source>
        <translation>雨水井水位</translation>
    </message>
    <message>
        <source>Soil moisture</source>
        <translation>土壤湿度</translation>
    </message>
    <message>
        <source>Wind speed</source>
        <translation>风速</translation>
    </message>
    <message>
        <source>Rainfall</source>
        <translation>降雨量</translation>
    </message>
    <message>
        <source>Outdoor temperature</source>
        <translation>室外温度</translation>
    </message>
    <message>
        <source>Outdoor humidity</source>
        <translation>室外湿度</translation>
    </message>
    <message>
        <source>Barometric pressure</source>
        <translation>大气压</translation>
    </message>
    <message>
        <source>UV index</source>
        <translation>紫外线指数</translation>
    </message>
    <message>
        <source>Structural tilt</source>
        <translation>结构倾斜</translation>
    </message>
    <message>
        <source>Structural vibration</source>
        <translation>结构振动</translation>
    </message>
    <message>
        <source>Crack width</source>
        <translation>裂缝宽度</translation>
    </message>
    <message>
        <source>Settlement</source>
        <translation>沉降</translation>
    </message>
    <message>
        <source>Garbage bin level</source>
        <translation>垃圾桶满溢度</translation>
    </message>
    <message>
        <source>Garbage bin smoke</source>
        <translation>垃圾桶烟雾</translation>
    </message>
    <message>
        <source>Manhole cover</source>
        <translation>井盖</translation>
    </message>
    <message>
        <source>Air handler</source>
        <translation>空调机组</translation>
    </message>
    <message>
        <source>Supply air temp</source>
        <translation>送风温度</translation>
    </message>
    <message>
        <source>Duct pressure</source>
        <translation>风管压力</translation>
    </message>
    <message>
        <source>Filter pressure drop</source>
        <translation>过滤器压差</translation>
    </message>
    <message>
        <source>Chiller state</source>
        <translation>冷水机组状态</translation>
    </message>
    <message>
        <source>Chilled water temp</source>
        <translation>冷冻水温度</translation>
    </message>
</context>
<context>
    <name>KpiOverlay</name>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>{percent} %</source>
        <translation>{percent}%</translation>
    </message>
    <message>
        <source>{seconds} s</source>
        <translation>{seconds}秒</translation>
    </message>
    <message>
        <source>{minutes} min</source>
        <translation>{minutes}分钟</translation>
    </message>
    <message>
        <source>{hours} h</source>
        <translation>{hours}小时</translation>
    </message>
    <message>
        <source>{online} of {total} devices report</source>
        <translation>{total} 个设备中 {online} 个在线上报</translation>
    </message>
    <message>
        <source>Time since the newest reading: amber after 10 s, red after 60 s</source>
        <translation>距最新一条读数的时间：超过10秒显示黄色，超过60秒显示红色</translation>
    </message>
    <message>
        <source>Mean time from first alarm to closure (target: 15 min)</source>
        <translation>平均处置时长：从首条报警到办结（目标：15分钟）</translation>
    </message>
    <message>
        <source>Share of incidents closed within their deadline</source>
        <translation>在时限内办结的事件占比</translation>
    </message>
    <message>
        <source>◆◆ Critical</source>
        <translation>◆◆ 紧急</translation>
    </message>
    <message>
        <source>◆ High</source>
        <translation>◆ 高</translation>
    </message>
    <message>
        <source>▲ Medium</source>
        <translation>▲ 中</translation>
    </message>
    <message>
        <source>● Low</source>
        <translation>● 低</translation>
    </message>
    <message>
        <source>Open orders</source>
        <translation>在办工单</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超时工单</translation>
    </message>
    <message>
        <source>Online</source>
        <translation>设备在线率</translation>
    </message>
    <message>
        <source>Time to close</source>
        <translation>平均处置时长</translation>
    </message>
    <message>
        <source>On time</source>
        <translation>按时办结率</translation>
    </message>
    <message>
        <source>Data age</source>
        <translation>数据时延</translation>
    </message>
    <message>
        <source>Key figures</source>
        <translation>关键指标</translation>
    </message>
</context>
<context>
    <name>LegendDock</name>
    <message>
        <source>Live state</source>
        <translation>实时状态</translation>
    </message>
    <message>
        <source>Measurement kind</source>
        <translation>监测类型</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <source>Select an element for its live values</source>
        <translation>选择构件查看实时数值</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Log in — Mumianling command center</source>
        <translation>登录 — 木棉岭指挥中心</translation>
    </message>
    <message>
        <source>Log in to {broker}. Every action you take is recorded under this account.</source>
        <translation>登录 {broker}。您的每一项操作都将以此账号记录。</translation>
    </message>
    <message>
        <source>user name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>A user name is letters, digits, &apos;_&apos;, &apos;.&apos;, &apos;:&apos; or &apos;-&apos;.</source>
        <translation>用户名只能包含字母、数字及 &apos;_&apos;、&apos;.&apos;、&apos;:&apos;、&apos;-&apos;。</translation>
    </message>
    <message>
        <source>Enter the password.</source>
        <translation>请输入密码。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Structure</source>
        <translation>结构</translation>
    </message>
    <message>
        <source>Spaces</source>
        <translation>空间</translation>
    </message>
    <message>
        <source>Equipment</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Sensors</source>
        <translation>传感器</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Measure: click the first point</source>
        <translation>测量：请点击第一个点</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>Telemetry: off</source>
        <translation>实时数据：关闭</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open IFC…</source>
        <translation>打开 IFC 模型(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;recording…</source>
        <translation>打开录像(&amp;R)…</translation>
    </message>
    <message>
        <source>Replay a recording: as it happened, or re-evaluated with today&apos;s rules</source>
        <translation>回放录像：原样回放，或按现行规则重新研判</translation>
    </message>
    <message>
        <source>&amp;Training on a recording…</source>
        <translation>录像培训演练(&amp;T)…</translation>
    </message>
    <message>
        <source>Handle a recorded incident as if live; nothing leaves this console</source>
        <translation>像实战一样处置录像中的事件；所有操作都不会发出本控制台</translation>
    </message>
    <message>
        <source>Back to &amp;live</source>
        <translation>返回实时(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>District &amp;overview</source>
        <translation>园区全景(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Clear selection</source>
        <translation>取消选择(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Wall mode</source>
        <translation>大屏模式(&amp;W)</translation>
    </message>
    <message>
        <source>Full screen on the wall, panels read from 5 m</source>
        <translation>大屏全屏显示，5米外也能看清</translation>
    </message>
    <message>
        <source>&amp;KPI overlay</source>
        <translation>考核指标看板(&amp;K)</translation>
    </message>
    <message>
        <source>Standing incidents, orders and handling times</source>
        <translation>在办事件、工单及处置时长</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Dark (control room)</source>
        <translation>深色（指挥大厅）(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Light (office)</source>
        <translation>浅色（办公室）(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Reset layout</source>
        <translation>重置布局(&amp;R)</translation>
    </message>
    <message>
        <source>Docks and panels as first installed</source>
        <translation>停靠窗口和面板恢复到初始布局</translation>
    </message>
    <message>
        <source>&amp;Incidents</source>
        <translation>事件(&amp;I)</translation>
    </message>
    <message>
        <source>Acknowledge selected</source>
        <translation>确认所选</translation>
    </message>
    <message>
        <source>Dispatch proposed units</source>
        <translation>按建议派遣处置力量</translation>
    </message>
    <message>
        <source>Open the most &amp;urgent incident</source>
        <translation>打开最紧急的事件(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>Inspect</source>
        <translation>查看</translation>
    </message>
    <message>
        <source>Tower</source>
        <translation>楼栋</translation>
    </message>
    <message>
        <source>View the selected tower</source>
        <translation>查看所选楼栋</translation>
    </message>
    <message>
        <source>Plan</source>
        <translation>平面</translation>
    </message>
    <message>
        <source>Storey plan from above</source>
        <translation>俯视楼层平面</translation>
    </message>
    <message>
        <source>Isolate</source>
        <translation>单独显示</translation>
    </message>
    <message>
        <source>Show only the selected tower or storey</source>
        <translation>只显示所选楼栋或楼层</translation>
    </message>
    <message>
        <source>X-ray</source>
        <translation>透视</translation>
    </message>
    <message>
        <source>Everything but the selection translucent</source>
        <translation>除所选对象外全部半透明</translation>
    </message>
    <message>
        <source>Section</source>
        <translation>剖切</translation>
    </message>
    <message>
        <source>Horizontal section plane at the height beside</source>
        <translation>按旁边设定的高度水平剖切</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>测量</translation>
    </message>
    <message>
        <source>Click two points to measure their distance</source>
        <translation>点击两个点测量距离</translation>
    </message>
    <message>
        <source>Height of the section plane</source>
        <translation>剖切面高度</translation>
    </message>
    <message>
        <source>Find by name, GlobalId or IFC class — Enter</source>
        <translation>按名称、GlobalId 或 IFC 类型查找 — 回车</translation>
    </message>
    <message>
        <source>TRAINING</source>
        <translation>培训演练</translation>
    </message>
    <message>
        <source>REPLAY</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>Mumianling digital twin</source>
        <translation>木棉岭数字孪生</translation>
    </message>
    <message>
        <source>Mumianling digital twin — command center</source>
        <translation>木棉岭数字孪生 — 指挥中心</translation>
    </message>
    <message>
        <source>Incidents ◆◆ {critical} ◆ {high} ▲ {medium} ● {low} · {unack} unacknowledged</source>
        <translation>事件 ◆◆ {critical} ◆ {high} ▲ {medium} ● {low} · {unack} 条未确认</translation>
    </message>
    <message>
        <source>Layout reset</source>
        <translation>布局已重置</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Loading</source>
        <translation>加载中</translation>
    </message>
    <message>
        <source>Loading cancelled</source>
        <translation>已取消加载</translation>
    </message>
    <message>
        <source>Loading cancelled: the model on screen is kept</source>
        <translation>已取消加载：保留当前模型</translation>
    </message>
    <message>
        <source>Loading cancelled: File › Open IFC… opens a model</source>
        <translation>已取消加载：可通过 文件 › 打开 IFC… 打开模型</translation>
    </message>
    <message>
        <source>Open an IFC model</source>
        <translation>打开 IFC 模型</translation>
    </message>
    <message>
        <source>IFC files (*.ifc);;All files (*)</source>
        <translation>IFC 文件 (*.ifc);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Load failed</source>
        <translation>加载失败</translation>
    </message>
    <message>
        <source>Cannot open the model</source>
        <translation>无法打开模型</translation>
    </message>
    <message>
        <source>The model on screen is kept.</source>
        <translation>保留当前显示的模型。</translation>
    </message>
    <message>
        <source>Building the scene…</source>
        <translation>正在生成三维场景…</translation>
    </message>
    <message>
        <source>{count} devices</source>
        <translation>{count} 个设备</translation>
    </message>
    <message>
        <source>{count} registry devices name a host_global_id that is not in this model: they are kept but shown nowhere</source>
        <translation>台账中有 {count} 个设备的 host_global_id 不在本模型中：已保留，但不会显示</translation>
    </message>
    <message>
        <source>Device registry</source>
        <translation>设备台账</translation>
    </message>
    <message>
        <source>The model is shown without devices.</source>
        <translation>模型已显示，但未加载设备。</translation>
    </message>
    <message>
        <source>Telemetry: starting…</source>
        <translation>实时数据：正在启动…</translation>
    </message>
    <message>
        <source>Telemetry</source>
        <translation>实时数据</translation>
    </message>
    <message>
        <source>Cannot start the telemetry: {error}</source>
        <translation>无法启动实时数据：{error}</translation>
    </message>
    <message>
        <source>Simulator scenario: {text}</source>
        <translation>模拟场景：{text}</translation>
    </message>
    <message>
        <source>Open a recording</source>
        <translation>打开录像</translation>
    </message>
    <message>
        <source>Recordings (*.mcap);;All files (*)</source>
        <translation>录像 (*.mcap);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Recording</source>
        <translation>录像</translation>
    </message>
    <message>
        <source>Open a model with its device registry first.</source>
        <translation>请先打开带设备台账的模型。</translation>
    </message>
    <message>
        <source>Cannot replay this recording: {error}</source>
        <translation>无法回放该录像：{error}</translation>
    </message>
    <message>
        <source>Parts of this recording are damaged and are skipped:</source>
        <translation>该录像部分内容已损坏，已跳过：</translation>
    </message>
    <message>
        <source>TRAINING — {name} — recording clock {clock} — nothing here is live and nothing leaves this console</source>
        <translation>培训演练 — {name} — 录像时间 {clock} — 此处均非实时，所有操作都不会发出本控制台</translation>
    </message>
    <message>
        <source>▶ REPLAY ({mode}) — {name} — recording clock {clock} — NOT LIVE</source>
        <translation>▶ 回放（{mode}）— {name} — 录像时间 {clock} — 非实时</translation>
    </message>
    <message>
        <source>Training on {name}</source>
        <translation>培训演练：{name}</translation>
    </message>
    <message>
        <source>Training report</source>
        <translation>培训演练报告</translation>
    </message>
    <message>
        <source>The report could not be saved in {folder}: {error}</source>
        <translation>报告无法保存到 {folder}：{error}</translation>
    </message>
    <message>
        <source>Training report saved: {path}</source>
        <translation>培训演练报告已保存：{path}</translation>
    </message>
    <message>
        <source>no data yet</source>
        <translation>暂无数据</translation>
    </message>
    <message>
        <source>data age {seconds} s</source>
        <translation>数据时延 {seconds} 秒</translation>
    </message>
    <message>
        <source>{rate} readings/s</source>
        <translation>{rate} 条读数/秒</translation>
    </message>
    <message>
        <source>■ {alarm} alarm ▲ {warning} warning ✕ {offline} offline ◌ {stale} stale</source>
        <translation>■ {alarm} 报警 ▲ {warning} 预警 ✕ {offline} 离线 ◌ {stale} 数据中断</translation>
    </message>
    <message>
        <source>No telemetry engine connected: the action was not sent</source>
        <translation>未连接实时数据引擎：操作未发送</translation>
    </message>
    <message>
        <source>{verb} sent as {operator}</source>
        <translation>已以 {operator} 的身份发送：{verb}</translation>
    </message>
    <message>
        <source>⚠ {count} action(s) not answered by the engine yet — sending again</source>
        <translation>⚠ 引擎尚有 {count} 项操作未答复 — 正在重发</translation>
    </message>
    <message>
        <source>Live: {devices}</source>
        <translation>实时：{devices}</translation>
    </message>
    <message>
        <source>Refused: {reason}</source>
        <translation>已拒绝：{reason}</translation>
    </message>
    <message>
        <source>Action refused</source>
        <translation>操作被拒绝</translation>
    </message>
    <message>
        <source>Nothing was changed.</source>
        <translation>未做任何更改。</translation>
    </message>
    <message>
        <source> (+{count} more)</source>
        <translation>（另有 {count} 起）</translation>
    </message>
    <message>
        <source>◆◆ CRITICAL: {title}{more} — {what}</source>
        <translation>◆◆ 紧急：{title}{more} — {what}</translation>
    </message>
    <message>
        <source>in the recording (a replay takes no actions)</source>
        <translation>发生在录像中（回放时不可操作）</translation>
    </message>
    <message>
        <source>acknowledge in the incident list</source>
        <translation>请在事件列表中确认</translation>
    </message>
    <message>
        <source>⚠ NO LIVE DATA since {time} ({seconds} s) — broker {broker}: {state}. The picture below is NOT live: nothing seen here is an all clear.</source>
        <translation>⚠ 自 {time} 起无实时数据（{seconds} 秒）— 消息服务器 {broker}：{state}。下方画面并非实时：看不到报警不代表一切正常。</translation>
    </message>
    <message>
        <source>Save the incident report</source>
        <translation>保存事件报告</translation>
    </message>
    <message>
        <source>PDF (*.pdf);;HTML (*.html)</source>
        <translation>PDF (*.pdf);;HTML (*.html)</translation>
    </message>
    <message>
        <source>Incident report</source>
        <translation>事件报告</translation>
    </message>
    <message>
        <source>The report could not be saved: {error}</source>
        <translation>报告无法保存：{error}</translation>
    </message>
    <message>
        <source>Report saved: {path}</source>
        <translation>报告已保存：{path}</translation>
    </message>
    <message>
        <source>from cache</source>
        <translation>来自缓存</translation>
    </message>
    <message>
        <source>tessellated</source>
        <translation>重新生成网格</translation>
    </message>
    <message>
        <source>{source} · {buildings} buildings · {elements} elements · {seconds} s ({how})</source>
        <translation>{source} · {buildings} 栋建筑 · {elements} 个构件 · {seconds} 秒（{how}）</translation>
    </message>
    <message>
        <source>{count} element(s) without geometry (first: {ifc_class} {global_id}: {reason}); twin-app inspect --json lists them all</source>
        <translation>{count} 个构件没有几何形体（第一个：{ifc_class} {global_id}：{reason}）；twin-app inspect --json 可列出全部</translation>
    </message>
    <message>
        <source>Select an element with devices for its live values</source>
        <translation>请选择带设备的构件以查看实时数据</translation>
    </message>
    <message>
        <source>Property search failed: {error}</source>
        <translation>属性搜索失败：{error}</translation>
    </message>
    <message>
        <source>{count} match(es) for {text}</source>
        <translation>“{text}”共 {count} 个匹配</translation>
    </message>
    <message>
        <source>Nothing matches {text}</source>
        <translation>没有与“{text}”匹配的结果</translation>
    </message>
    <message>
        <source>Select a tower, a storey or an element to isolate</source>
        <translation>请选择要单独显示的楼栋、楼层或构件</translation>
    </message>
    <message>
        <source>Measure: nothing under the cursor</source>
        <translation>测量：光标下没有对象</translation>
    </message>
    <message>
        <source>Measure: click the second point</source>
        <translation>测量：请点击第二个点</translation>
    </message>
    <message>
        <source>Distance {d} m (horizontal {h} m, vertical {v} m)</source>
        <translation>距离 {d} 米（水平 {h} 米，垂直 {v} 米）</translation>
    </message>
</context>
<context>
    <name>ModelLoader</name>
    <message>
        <source>Reading the device registry</source>
        <translation>正在读取设备台账</translation>
    </message>
    <message>
        <source>generated district</source>
        <translation>生成的园区模型</translation>
    </message>
</context>
<context>
    <name>Orders</name>
    <message>
        <source>dispatched</source>
        <translation>已派单</translation>
    </message>
    <message>
        <source>en route</source>
        <translation>赶往现场</translation>
    </message>
    <message>
        <source>on scene</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>escalated</source>
        <translation>已升级</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>reinforced</source>
        <translation>已增派</translation>
    </message>
</context>
<context>
    <name>Parties</name>
    <message>
        <source>Fire brigade</source>
        <translation>消防救援</translation>
    </message>
    <message>
        <source>Police</source>
        <translation>公安</translation>
    </message>
    <message>
        <source>Community staff</source>
        <translation>社区工作站</translation>
    </message>
    <message>
        <source>Property management</source>
        <translation>物业服务中心</translation>
    </message>
    <message>
        <source>Maintenance</source>
        <translation>维保单位</translation>
    </message>
    <message>
        <source>Duty supervisor</source>
        <translation>值班长</translation>
    </message>
</context>
<context>
    <name>Priorities</name>
    <message>
        <source>Critical</source>
        <translation>紧急</translation>
    </message>
    <message>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <source>Medium</source>
        <translation>中</translation>
    </message>
    <message>
        <source>Low</source>
        <translation>低</translation>
    </message>
</context>
<context>
    <name>PropertyPanel</name>
    <message>
        <source>no reading yet · {state}</source>
        <translation>尚无读数 · {state}</translation>
    </message>
    <message>
        <source>{seconds} s ago</source>
        <translation>{seconds} 秒前</translation>
    </message>
    <message>
        <source>Properties</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Property</source>
        <translation>属性</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Element</source>
        <translation>构件</translation>
    </message>
    <message>
        <source>IFC class</source>
        <translation>IFC 类型</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Long name</source>
        <translation>全称</translation>
    </message>
    <message>
        <source>Building</source>
        <translation>楼栋</translation>
    </message>
    <message>
        <source>Storey</source>
        <translation>楼层</translation>
    </message>
    <message>
        <source>Loading properties…</source>
        <translation>正在加载属性…</translation>
    </message>
    <message>
        <source>Devices ({count})</source>
        <translation>设备（{count}）</translation>
    </message>
    <message>
        <source>alarm/warn {limits}</source>
        <translation>报警/预警 {limits}</translation>
    </message>
    <message>
        <source>… {count} more</source>
        <translation>… 另有 {count} 个</translation>
    </message>
    <message>
        <source>no answer</source>
        <translation>无响应</translation>
    </message>
    <message>
        <source>Properties unavailable</source>
        <translation>属性不可用</translation>
    </message>
    <message>
        <source>reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Attributes</source>
        <translation>属性字段</translation>
    </message>
</context>
<context>
    <name>Replay</name>
    <message>
        <source>alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <source>incident</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>linked action</source>
        <translation>联动控制</translation>
    </message>
    <message>
        <source>dispatch</source>
        <translation>派单</translation>
    </message>
    <message>
        <source>operator action</source>
        <translation>操作员操作</translation>
    </message>
    <message>
        <source>As it happened</source>
        <translation>原样回放</translation>
    </message>
    <message>
        <source>Re-evaluated with today&apos;s rules</source>
        <translation>按现行规则重新研判</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>培训演练</translation>
    </message>
    <message>
        <source>recording {name}</source>
        <translation>录像 {name}</translation>
    </message>
    <message>
        <source>this is a replay: actions are taken only in training</source>
        <translation>当前为回放：仅在培训演练中可进行操作</translation>
    </message>
</context>
<context>
    <name>ReportExport</name>
    <message>
        <source>{title} — page {page} of {pages}</source>
        <translation>{title} — 第 {page} 页，共 {pages} 页</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Search actions and keys…</source>
        <translation>搜索操作或按键…</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
    <message>
        <source>No shortcut matches.</source>
        <translation>没有匹配的快捷键。</translation>
    </message>
</context>
<context>
    <name>States</name>
    <message>
        <source>New</source>
        <translation>待确认</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Dispatched</source>
        <translation>已派单</translation>
    </message>
    <message>
        <source>On scene</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>Resolved</source>
        <translation>已处置</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已办结</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <source>high</source>
        <translation>超上限</translation>
    </message>
    <message>
        <source>low</source>
        <translation>低于下限</translation>
    </message>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>rising fast</source>
        <translation>快速上升</translation>
    </message>
    <message>
        <source>command not confirmed</source>
        <translation>联动指令未确认</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>{kind} {condition}</source>
        <translation>{kind}{condition}</translation>
    </message>
    <message>
        <source>due in {time}</source>
        <translation>剩余 {time}</translation>
    </message>
    <message>
        <source>OVERDUE {time}</source>
        <translation>已超时 {time}</translation>
    </message>
</context>
<context>
    <name>TimelineDock</name>
    <message>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>◀◀ Alarm</source>
        <translation>◀◀ 上一报警</translation>
    </message>
    <message>
        <source>Previous alarm or incident</source>
        <translation>上一条报警或事件</translation>
    </message>
    <message>
        <source>◀ {seconds} s</source>
        <translation>◀ {seconds} 秒</translation>
    </message>
    <message>
        <source>❚❚ Pause</source>
        <translation>❚❚ 暂停</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ 播放</translation>
    </message>
    <message>
        <source>{seconds} s ▶</source>
        <translation>{seconds} 秒 ▶</translation>
    </message>
    <message>
        <source>Alarm ▶▶</source>
        <translation>下一报警 ▶▶</translation>
    </message>
    <message>
        <source>Next alarm or incident</source>
        <translation>下一条报警或事件</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>倍速</translation>
    </message>
    <message>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <source>End training and score</source>
        <translation>结束演练并评分</translation>
    </message>
</context>
<context>
    <name>TrainingReportDialog</name>
    <message>
        <source>Training report</source>
        <translation>培训演练报告</translation>
    </message>
    <message>
        <source>Saved as {path}</source>
        <translation>已保存为 {path}</translation>
    </message>
    <message>
        <source>Open in the browser</source>
        <translation>在浏览器中打开</translation>
    </message>
</context>
<context>
    <name>TrendWidget</name>
    <message>
        <source>Collecting the live values of the devices in alarm…</source>
        <translation>正在采集报警设备的实时数据…</translation>
    </message>
    <message>
        <source>time (last {minutes} min)</source>
        <translation>时间（最近 {minutes} 分钟）</translation>
    </message>
</context>
<context>
    <name>Units</name>
    <message>
        <source>Luohu fire station engine 1</source>
        <translation>罗湖消防站1号车</translation>
    </message>
    <message>
        <source>Luohu fire station engine 2</source>
        <translation>罗湖消防站2号车</translation>
    </message>
    <message>
        <source>Dongmen police patrol 1</source>
        <translation>东门派出所巡逻1组</translation>
    </message>
    <message>
        <source>Dongmen police patrol 2</source>
        <translation>东门派出所巡逻2组</translation>
    </message>
    <message>
        <source>Mumianling grid staff A</source>
        <translation>木棉岭网格员A</translation>
    </message>
    <message>
        <source>Mumianling grid staff B</source>
        <translation>木棉岭网格员B</translation>
    </message>
    <message>
        <source>Mumianling grid staff C</source>
        <translation>木棉岭网格员C</translation>
    </message>
    <message>
        <source>Property duty team 1</source>
        <translation>物业值班1组</translation>
    </message>
    <message>
        <source>Property duty team 2</source>
        <translation>物业值班2组</translation>
    </message>
    <message>
        <source>Property duty team 3</source>
        <translation>物业值班3组</translation>
    </message>
    <message>
        <source>Maintenance crew 1 (MEP)</source>
        <translation>维保1组（机电）</translation>
    </message>
    <message>
        <source>Maintenance crew 2 (elevators)</source>
        <translation>维保2组（电梯）</translation>
    </message>
    <message>
        <source>Maintenance crew 3 (drainage)</source>
        <translation>维保3组（给排水）</translation>
    </message>
    <message>
        <source>Command center duty supervisor</source>
        <translation>指挥中心值班长</translation>
    </message>
</context>
<context>
    <name>screens</name>
    <message>
        <source>No screen is connected.</source>
        <translation>未连接显示屏。</translation>
    </message>
    <message>
        <source>Screen &apos;{name}&apos; not found; using the primary screen {primary}. Screens: {screens}.</source>
        <translation>未找到显示屏“{name}”；改用主显示屏 {primary}。现有显示屏：{screens}。</translation>
    </message>
</context>
</TS>
