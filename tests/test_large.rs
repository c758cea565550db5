//! A group of 300 tasks compiles, is `Send`, and binds every value in declaration order: its
//! branches form a balanced tree, whose depth grows with the logarithm of the number of tasks,
//! so the trait solver's recursion limit is far away.

use taskgroup::{ErrorGroup, group};

async fn value(i: u64) -> Result<u64, taskgroup::BoxError> {
    tokio::task::yield_now().await;
    Ok(i)
}

async fn many() -> Result<(u64, u64, u64), ErrorGroup> {
    group! {
        t0 = value(0);
        t1 = value(1);
        t2 = value(2);
        t3 = value(3);
        t4 = value(4);
        t5 = value(5);
        t6 = value(6);
        t7 = value(7);
        t8 = value(8);
        t9 = value(9);
        t10 = value(10);
        t11 = value(11);
        t12 = value(12);
        t13 = value(13);
        t14 = value(14);
        t15 = value(15);
        t16 = value(16);
        t17 = value(17);
        t18 = value(18);
        t19 = value(19);
        t20 = value(20);
        t21 = value(21);
        t22 = value(22);
        t23 = value(23);
        t24 = value(24);
        t25 = value(25);
        t26 = value(26);
        t27 = value(27);
        t28 = value(28);
        t29 = value(29);
        t30 = value(30);
        t31 = value(31);
        t32 = value(32);
        t33 = value(33);
        t34 = value(34);
        t35 = value(35);
        t36 = value(36);
        t37 = value(37);
        t38 = value(38);
        t39 = value(39);
        t40 = value(40);
        t41 = value(41);
        t42 = value(42);
        t43 = value(43);
        t44 = value(44);
        t45 = value(45);
        t46 = value(46);
        t47 = value(47);
        t48 = value(48);
        t49 = value(49);
        t50 = value(50);
        t51 = value(51);
        t52 = value(52);
        t53 = value(53);
        t54 = value(54);
        t55 = value(55);
        t56 = value(56);
        t57 = value(57);
        t58 = value(58);
        t59 = value(59);
        t60 = value(60);
        t61 = value(61);
        t62 = value(62);
        t63 = value(63);
        t64 = value(64);
        t65 = value(65);
        t66 = value(66);
        t67 = value(67);
        t68 = value(68);
        t69 = value(69);
        t70 = value(70);
        t71 = value(71);
        t72 = value(72);
        t73 = value(73);
        t74 = value(74);
        t75 = value(75);
        t76 = value(76);
        t77 = value(77);
        t78 = value(78);
        t79 = value(79);
        t80 = value(80);
        t81 = value(81);
        t82 = value(82);
        t83 = value(83);
        t84 = value(84);
        t85 = value(85);
        t86 = value(86);
        t87 = value(87);
        t88 = value(88);
        t89 = value(89);
        t90 = value(90);
        t91 = value(91);
        t92 = value(92);
        t93 = value(93);
        t94 = value(94);
        t95 = value(95);
        t96 = value(96);
        t97 = value(97);
        t98 = value(98);
        t99 = value(99);
        t100 = value(100);
        t101 = value(101);
        t102 = value(102);
        t103 = value(103);
        t104 = value(104);
        t105 = value(105);
        t106 = value(106);
        t107 = value(107);
        t108 = value(108);
        t109 = value(109);
        t110 = value(110);
        t111 = value(111);
        t112 = value(112);
        t113 = value(113);
        t114 = value(114);
        t115 = value(115);
        t116 = value(116);
        t117 = value(117);
        t118 = value(118);
        t119 = value(119);
        t120 = value(120);
        t121 = value(121);
        t122 = value(122);
        t123 = value(123);
        t124 = value(124);
        t125 = value(125);
        t126 = value(126);
        t127 = value(127);
        t128 = value(128);
        t129 = value(129);
        t130 = value(130);
        t131 = value(131);
        t132 = value(132);
        t133 = value(133);
        t134 = value(134);
        t135 = value(135);
        t136 = value(136);
        t137 = value(137);
        t138 = value(138);
        t139 = value(139);
        t140 = value(140);
        t141 = value(141);
        t142 = value(142);
        t143 = value(143);
        t144 = value(144);
        t145 = value(145);
        t146 = value(146);
        t147 = value(147);
        t148 = value(148);
        t149 = value(149);
        t150 = value(150);
        t151 = value(151);
        t152 = value(152);
        t153 = value(153);
        t154 = value(154);
        t155 = value(155);
        t156 = value(156);
        t157 = value(157);
        t158 = value(158);
        t159 = value(159);
        t160 = value(160);
        t161 = value(161);
        t162 = value(162);
        t163 = value(163);
        t164 = value(164);
        t165 = value(165);
        t166 = value(166);
        t167 = value(167);
        t168 = value(168);
        t169 = value(169);
        t170 = value(170);
        t171 = value(171);
        t172 = value(172);
        t173 = value(173);
        t174 = value(174);
        t175 = value(175);
        t176 = value(176);
        t177 = value(177);
        t178 = value(178);
        t179 = value(179);
        t180 = value(180);
        t181 = value(181);
        t182 = value(182);
        t183 = value(183);
        t184 = value(184);
        t185 = value(185);
        t186 = value(186);
        t187 = value(187);
        t188 = value(188);
        t189 = value(189);
        t190 = value(190);
        t191 = value(191);
        t192 = value(192);
        t193 = value(193);
        t194 = value(194);
        t195 = value(195);
        t196 = value(196);
        t197 = value(197);
        t198 = value(198);
        t199 = value(199);
        t200 = value(200);
        t201 = value(201);
        t202 = value(202);
        t203 = value(203);
        t204 = value(204);
        t205 = value(205);
        t206 = value(206);
        t207 = value(207);
        t208 = value(208);
        t209 = value(209);
        t210 = value(210);
        t211 = value(211);
        t212 = value(212);
        t213 = value(213);
        t214 = value(214);
        t215 = value(215);
        t216 = value(216);
        t217 = value(217);
        t218 = value(218);
        t219 = value(219);
        t220 = value(220);
        t221 = value(221);
        t222 = value(222);
        t223 = value(223);
        t224 = value(224);
        t225 = value(225);
        t226 = value(226);
        t227 = value(227);
        t228 = value(228);
        t229 = value(229);
        t230 = value(230);
        t231 = value(231);
        t232 = value(232);
        t233 = value(233);
        t234 = value(234);
        t235 = value(235);
        t236 = value(236);
        t237 = value(237);
        t238 = value(238);
        t239 = value(239);
        t240 = value(240);
        t241 = value(241);
        t242 = value(242);
        t243 = value(243);
        t244 = value(244);
        t245 = value(245);
        t246 = value(246);
        t247 = value(247);
        t248 = value(248);
        t249 = value(249);
        t250 = value(250);
        t251 = value(251);
        t252 = value(252);
        t253 = value(253);
        t254 = value(254);
        t255 = value(255);
        t256 = value(256);
        t257 = value(257);
        t258 = value(258);
        t259 = value(259);
        t260 = value(260);
        t261 = value(261);
        t262 = value(262);
        t263 = value(263);
        t264 = value(264);
        t265 = value(265);
        t266 = value(266);
        t267 = value(267);
        t268 = value(268);
        t269 = value(269);
        t270 = value(270);
        t271 = value(271);
        t272 = value(272);
        t273 = value(273);
        t274 = value(274);
        t275 = value(275);
        t276 = value(276);
        t277 = value(277);
        t278 = value(278);
        t279 = value(279);
        t280 = value(280);
        t281 = value(281);
        t282 = value(282);
        t283 = value(283);
        t284 = value(284);
        t285 = value(285);
        t286 = value(286);
        t287 = value(287);
        t288 = value(288);
        t289 = value(289);
        t290 = value(290);
        t291 = value(291);
        t292 = value(292);
        t293 = value(293);
        t294 = value(294);
        t295 = value(295);
        t296 = value(296);
        t297 = value(297);
        t298 = value(298);
        t299 = value(299);
    }
    let sum = t0
        + t1
        + t2
        + t3
        + t4
        + t5
        + t6
        + t7
        + t8
        + t9
        + t10
        + t11
        + t12
        + t13
        + t14
        + t15
        + t16
        + t17
        + t18
        + t19
        + t20
        + t21
        + t22
        + t23
        + t24
        + t25
        + t26
        + t27
        + t28
        + t29
        + t30
        + t31
        + t32
        + t33
        + t34
        + t35
        + t36
        + t37
        + t38
        + t39
        + t40
        + t41
        + t42
        + t43
        + t44
        + t45
        + t46
        + t47
        + t48
        + t49
        + t50
        + t51
        + t52
        + t53
        + t54
        + t55
        + t56
        + t57
        + t58
        + t59
        + t60
        + t61
        + t62
        + t63
        + t64
        + t65
        + t66
        + t67
        + t68
        + t69
        + t70
        + t71
        + t72
        + t73
        + t74
        + t75
        + t76
        + t77
        + t78
        + t79
        + t80
        + t81
        + t82
        + t83
        + t84
        + t85
        + t86
        + t87
        + t88
        + t89
        + t90
        + t91
        + t92
        + t93
        + t94
        + t95
        + t96
        + t97
        + t98
        + t99
        + t100
        + t101
        + t102
        + t103
        + t104
        + t105
        + t106
        + t107
        + t108
        + t109
        + t110
        + t111
        + t112
        + t113
        + t114
        + t115
        + t116
        + t117
        + t118
        + t119
        + t120
        + t121
        + t122
        + t123
        + t124
        + t125
        + t126
        + t127
        + t128
        + t129
        + t130
        + t131
        + t132
        + t133
        + t134
        + t135
        + t136
        + t137
        + t138
        + t139
        + t140
        + t141
        + t142
        + t143
        + t144
        + t145
        + t146
        + t147
        + t148
        + t149
        + t150
        + t151
        + t152
        + t153
        + t154
        + t155
        + t156
        + t157
        + t158
        + t159
        + t160
        + t161
        + t162
        + t163
        + t164
        + t165
        + t166
        + t167
        + t168
        + t169
        + t170
        + t171
        + t172
        + t173
        + t174
        + t175
        + t176
        + t177
        + t178
        + t179
        + t180
        + t181
        + t182
        + t183
        + t184
        + t185
        + t186
        + t187
        + t188
        + t189
        + t190
        + t191
        + t192
        + t193
        + t194
        + t195
        + t196
        + t197
        + t198
        + t199
        + t200
        + t201
        + t202
        + t203
        + t204
        + t205
        + t206
        + t207
        + t208
        + t209
        + t210
        + t211
        + t212
        + t213
        + t214
        + t215
        + t216
        + t217
        + t218
        + t219
        + t220
        + t221
        + t222
        + t223
        + t224
        + t225
        + t226
        + t227
        + t228
        + t229
        + t230
        + t231
        + t232
        + t233
        + t234
        + t235
        + t236
        + t237
        + t238
        + t239
        + t240
        + t241
        + t242
        + t243
        + t244
        + t245
        + t246
        + t247
        + t248
        + t249
        + t250
        + t251
        + t252
        + t253
        + t254
        + t255
        + t256
        + t257
        + t258
        + t259
        + t260
        + t261
        + t262
        + t263
        + t264
        + t265
        + t266
        + t267
        + t268
        + t269
        + t270
        + t271
        + t272
        + t273
        + t274
        + t275
        + t276
        + t277
        + t278
        + t279
        + t280
        + t281
        + t282
        + t283
        + t284
        + t285
        + t286
        + t287
        + t288
        + t289
        + t290
        + t291
        + t292
        + t293
        + t294
        + t295
        + t296
        + t297
        + t298
        + t299;
    Ok((t0, t299, sum))
}

#[tokio::test]
async fn a_group_of_three_hundred_tasks_is_send_and_binds_every_value() {
    // `tokio::spawn` asks the group to be `Send`.
    let (first, last, sum) = tokio::spawn(many()).await.unwrap().unwrap();
    assert_eq!((first, last), (0, 299));
    assert_eq!(sum, (300 * (300 - 1)) / 2);
}
