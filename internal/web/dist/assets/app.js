var t={};var e={};var r={};var n={};var o={};var i={};var m={};var a={};var c={};var s={};var P={en:{...t,...e},sq:{...r,...n},mk:{...o,...i},"sr-Latn":{...m,...a},"sr-Cyrl":{...c,...s}};
