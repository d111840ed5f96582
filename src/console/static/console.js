// The console's only script: htmx requests carry the session's CSRF token, and the overview's
// charts are drawn from the JSON the page embeds. No inline script anywhere (the CSP forbids it).
(function () {
  'use strict';

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : null;
  }

  document.addEventListener('htmx:configRequest', function (event) {
    var token = csrfToken();
    if (token) event.detail.headers['X-CSRF-Token'] = token;
  });

  var PALETTE = {
    processed: '#15803d', duplicate: '#64748b', unroutable: '#b45309', rejected: '#b91c1c', failed: '#7e22ce', received: '#1d4ed8',
  };
  var SERIES = ['#1d4ed8', '#b45309', '#15803d', '#b91c1c', '#7e22ce', '#0e7490', '#a16207', '#be185d'];

  function readData(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent || 'null'); } catch (e) { return null; }
  }

  function hourLabel(iso) {
    var d = new Date(iso);
    return d.toISOString().slice(5, 13).replace('T', ' ') + 'h';
  }

  function drawCharts() {
    if (typeof window.Chart === 'undefined') return;
    var data = readData('overview-data');
    if (!data) return;
    window.Chart.defaults.animation = false;
    window.Chart.defaults.color = '#1f2937';

    var inbound = document.getElementById('chart-inbound');
    if (inbound && data.inbound) {
      new window.Chart(inbound, {
        type: 'bar',
        data: {
          labels: data.inbound.hours.map(hourLabel),
          datasets: data.inbound.series.map(function (s) {
            return { label: s.status, data: s.counts, backgroundColor: PALETTE[s.status] || '#334155', stack: 'inbound' };
          }),
        },
        options: { responsive: true, maintainAspectRatio: false, scales: { x: { stacked: true, ticks: { maxTicksLimit: 16 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
      });
    }

    var imports = document.getElementById('chart-imports');
    if (imports && data.imports) {
      new window.Chart(imports, {
        type: 'line',
        data: {
          datasets: data.imports.map(function (c, i) {
            return {
              label: c.label,
              data: c.points.map(function (p) { return { x: new Date(p.at).getTime(), y: p.perSecond }; }),
              borderColor: SERIES[i % SERIES.length],
              backgroundColor: SERIES[i % SERIES.length],
            };
          }),
        },
        options: {
          responsive: true, maintainAspectRatio: false, parsing: false,
          scales: {
            x: {
              type: 'linear',
              min: new Date(data.importsWindow.from).getTime(),
              max: new Date(data.importsWindow.to).getTime(),
              ticks: { maxTicksLimit: 8, callback: function (v) { return new Date(v).toISOString().slice(5, 16).replace('T', ' '); } },
            },
            y: { beginAtZero: true, title: { display: true, text: 'records per second' } },
          },
        },
      });
    }

    var webhooks = document.getElementById('chart-webhooks');
    if (webhooks && data.webhooks) {
      new window.Chart(webhooks, {
        type: 'line',
        data: {
          labels: data.webhooks.hours.map(hourLabel),
          datasets: [{ label: 'successful attempts (%)', data: data.webhooks.successRate, borderColor: '#15803d', backgroundColor: '#15803d', spanGaps: true }],
        },
        options: { responsive: true, maintainAspectRatio: false, scales: { x: { ticks: { maxTicksLimit: 16 } }, y: { min: 0, max: 100 } } },
      });
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', drawCharts);
  else drawCharts();
})();
